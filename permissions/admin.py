"""Django admin for users, tokens and permission rows, with the API's validation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from config.errors import MlflowError
from permissions.models import (
    ExperimentPermission,
    RegisteredModelPermission,
    Token,
    WorkspacePermission,
)
from permissions.services import token_set_secret
from permissions.validators import validate_password, validate_username

if TYPE_CHECKING:
    PasswordChangeBase = AdminPasswordChangeForm[User]
else:  # generic in django-stubs only
    PasswordChangeBase = AdminPasswordChangeForm


def _checked(check: Any, value: Any) -> Any:
    try:
        return check(value)
    except MlflowError as error:
        raise ValidationError(error.message) from None


class MlflowUserCreationForm(AdminUserCreationForm[User]):
    """A new user: the API's username and password rules."""

    def clean_username(self) -> str:
        username: str = super().clean_username()
        return _checked(validate_username, username)

    def clean_password1(self) -> str:
        password: str = self.cleaned_data.get("password1") or ""
        return _checked(validate_password, password)


class MlflowPasswordChangeForm(PasswordChangeBase):
    """A new password: the API's rule."""

    def clean_password1(self) -> str:
        password: str = self.cleaned_data.get("password1") or ""
        return _checked(validate_password, password)


class ExperimentPermissionInline(admin.TabularInline[ExperimentPermission, User]):
    model = ExperimentPermission
    raw_id_fields = ["experiment"]
    extra = 0


class RegisteredModelPermissionInline(admin.TabularInline[RegisteredModelPermission, User]):
    model = RegisteredModelPermission
    extra = 0


class WorkspacePermissionInline(admin.TabularInline[WorkspacePermission, User]):
    model = WorkspacePermission
    extra = 0


admin.site.unregister(User)


@admin.register(User)
class MlflowUserAdmin(UserAdmin[User]):
    """Users; "superuser status" is MLflow's ``is_admin``."""

    add_form = MlflowUserCreationForm
    change_password_form = MlflowPasswordChangeForm
    list_display = ["username", "is_superuser", "is_active", "date_joined"]
    list_filter = ["is_superuser", "is_active"]
    inlines = [
        WorkspacePermissionInline,
        ExperimentPermissionInline,
        RegisteredModelPermissionInline,
    ]

    def get_inline_instances(self, request: HttpRequest, obj: User | None = None) -> list[Any]:
        # A user gets rows once they exist, as with the API.
        return [] if obj is None else super().get_inline_instances(request, obj)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        obj.is_staff = obj.is_superuser  # MLflow admins may use this site; nobody else
        super().save_model(request, obj, form, change)


class TokenForm(forms.ModelForm[Token]):
    class Meta:
        model = Token
        fields = ["user", "name", "expires_at"]


@admin.register(Token)
class TokenAdmin(admin.ModelAdmin[Token]):
    """Bearer tokens; a new token's secret is shown once, after saving."""

    form = TokenForm
    list_display = ["prefix", "name", "user", "created_at", "expires_at"]
    list_filter = ["user"]
    readonly_fields = ["prefix", "created_at"]
    raw_id_fields = ["user"]

    def get_readonly_fields(self, request: HttpRequest, obj: Token | None = None) -> list[str]:
        # A token's owner is its identity: issue a new token rather than move one.
        return ["user", "prefix", "created_at"] if obj is not None else ["prefix", "created_at"]

    def save_model(self, request: HttpRequest, obj: Token, form: Any, change: bool) -> None:
        secret = None if change else token_set_secret(obj)
        super().save_model(request, obj, form, change)
        if secret is not None:
            self.message_user(
                request,
                f"Token for {obj.user.username}: {secret} (copy it now; it is not shown again).",
                messages.SUCCESS,
            )


@admin.register(WorkspacePermission)
class WorkspacePermissionAdmin(admin.ModelAdmin[WorkspacePermission]):
    list_display = ["for_workspace", "user", "permission"]
    list_filter = ["for_workspace", "permission"]
    search_fields = ["user__username", "for_workspace__name"]
    raw_id_fields = ["user"]


@admin.register(ExperimentPermission)
class ExperimentPermissionAdmin(admin.ModelAdmin[ExperimentPermission]):
    list_display = ["experiment", "user", "permission"]
    list_filter = ["permission"]
    search_fields = ["user__username", "experiment__name"]
    raw_id_fields = ["experiment", "user"]


@admin.register(RegisteredModelPermission)
class RegisteredModelPermissionAdmin(admin.ModelAdmin[RegisteredModelPermission]):
    list_display = ["name", "for_workspace", "user", "permission"]
    list_filter = ["for_workspace", "permission"]
    search_fields = ["user__username", "name"]
    raw_id_fields = ["user"]
