"""Request schemas (`<Operation>In`) and response renderers (`<Resource>Out`) of tracking."""
