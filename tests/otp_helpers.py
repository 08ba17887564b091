"""The second factor in tests (tangshan_portal/otp.py).

Most tests are about something else and log staff in with client.login()/force_login(): tests/conftest.py makes
those sessions count as having passed the second factor (`mark_client_verified`), unless the test asks for the
`real_otp` fixture. The browser tests log in through the real forms and type the code like a person with an
authenticator app would (`pass_second_factor`).
"""

from base64 import b32decode

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_totp.models import TOTPDevice


def device_for(user):
    """The user's confirmed authenticator, created (with a random key) if it has none."""
    from tangshan_portal.otp import confirmed_device

    return confirmed_device(user) or TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def mark_client_verified(client, user):
    """Record in the test client's session that it passed the second factor, for a user who needs one."""
    from tangshan_portal.otp import otp_needed

    if not otp_needed(user):
        return
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device_for(user).persistent_id
    session.save()


def code_at(device, timestep):
    return str(hotp(device.bin_key, timestep, digits=device.digits)).zfill(device.digits)


def usable_code(device):
    """The code an authenticator app would show now, or the next one if this time step's code was used already
    (a second login within the same 30 seconds: the device accepts one step ahead)."""
    device.refresh_from_db()
    now = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).t()
    timestep = max(now, device.last_t + 1)
    assert timestep <= now + device.tolerance, "no unused code within the device's tolerance: move the clock on"
    return code_at(device, timestep)


def code_for_secret(base32_secret, digits=6, step=30):
    """The current code for a secret as the enrolment page shows it (groups of four, no padding)."""
    secret = "".join(base32_secret.split()).upper()
    key = b32decode(secret + "=" * (-len(secret) % 8))
    return str(TOTP(key, step=step, digits=digits).token()).zfill(digits)


def pass_second_factor(page, username):
    """After a login in the browser: enter the code on the code page, or enrol on the enrolment page by reading
    the key off the page (as a person would type it into the app). Does nothing on any other page."""
    from tangshan_portal.models import User

    path = page.url.split("?", 1)[0]
    if path.endswith("/accounts/otp/verify/"):
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        page.fill("#id_code", usable_code(device))
    elif path.endswith("/accounts/otp/") and page.locator("#otp-secret").count():
        page.fill("#id_code", code_for_secret(page.inner_text("#otp-secret")))
        assert User.objects.filter(username=username).exists()
    else:
        return
    page.click("main button[type=submit]")
    page.wait_for_load_state()
