"""Team login: password, then the second factor (enrolled on first login), with throttling."""

import base64

import segno
from django import forms
from django.contrib.auth import login as auth_login
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.debug import sensitive_post_parameters

from cocdesk.orgs.domain import accounts
from cocdesk.orgs.forms import PasswordResetRequestForm

from .access import safe_next

LOGIN_THROTTLED = "Too many failed logins. Wait 15 minutes and try again, or ask an admin to check your account."


class SecondFactorForm(forms.Form):
    token = forms.CharField(
        label="Code from your authenticator app, or a recovery code",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        error_messages={"required": "Enter the 6-digit code your authenticator app shows."},
    )


def _with_next(url, request):
    target = safe_next(request)
    return f"{url}?{urlencode({'next': target})}"


@sensitive_post_parameters("password")
def login_view(request):
    form = AuthenticationForm(request, data=request.POST or None)
    error = None
    if request.method == "POST":
        username = request.POST.get("username", "")
        if accounts.login_is_blocked(request, username):
            error = LOGIN_THROTTLED
        elif form.is_valid():
            accounts.clear_failed_logins(username)
            auth_login(request, form.get_user())
            if accounts.has_confirmed_authenticator(request.user):
                return redirect(_with_next(reverse("desk:second_factor"), request))
            return redirect(_with_next(reverse("desk:enrol"), request))
        else:
            accounts.note_failed_login(request, username)
    context = {"form": form, "error": error, "next": safe_next(request)}
    return render(request, "desk/login.html", context)


def second_factor_view(request):
    if not request.user.is_authenticated:
        return redirect("desk:login")
    if not accounts.has_confirmed_authenticator(request.user):
        return redirect(_with_next(reverse("desk:enrol"), request))
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if accounts.verify_second_factor(request, form.cleaned_data["token"]):
            return redirect(safe_next(request))
        form.add_error("token", "That code is not valid. Check the time on your phone, or use a recovery code.")
    return render(request, "desk/second_factor.html", {"form": form, "next": safe_next(request)})


def enrol_view(request):
    if not request.user.is_authenticated:
        return redirect("desk:login")
    if accounts.has_confirmed_authenticator(request.user):
        return redirect(_with_next(reverse("desk:second_factor"), request))
    device = accounts.pending_authenticator(request.user)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = accounts.confirm_authenticator(request, device, form.cleaned_data["token"])
        if codes is not None:
            return render(request, "desk/recovery_codes.html", {"codes": codes, "next": safe_next(request)})
        form.add_error("token", "That code did not match. Scan the code again and enter the newest 6 digits.")
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=4)
    context = {
        "form": form,
        "next": safe_next(request),
        "qr_data_uri": "data:image/svg+xml;base64," + base64.b64encode(qr_svg.encode()).decode(),
        "secret": base64.b32encode(device.bin_key).decode(),
    }
    return render(request, "desk/enrol.html", context)


def password_reset_request_view(request):
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        accounts.request_password_reset(form.cleaned_data["email"])
        return render(request, "desk/password_reset_sent.html")
    return render(request, "desk/password_reset_request.html", {"form": form})
