import pytest
from sqlalchemy import select

from portal.auth.models import User
from portal.extensions import db


@pytest.mark.parametrize("args, role", [
    (["--role", "admin"], "admin"),
    (["--role", "official", "--unit", "cangio"], "official"),
])
def test_users_create_any_role(app, runner, args, role):
    result = runner.invoke(args=["users", "create", "--email", "New.User@Example.vn", "--name", "Người Dùng Mới",
                                 "--password", "a-long-password", *args])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new.user@example.vn"))
        assert user.role == role and user.check_password("a-long-password")
        if role == "official":
            assert user.unit.code == "cangio" and user.unit.name_vi == "Huyện Cần Giờ"


def test_users_create_hr_needs_an_existing_enterprise(app, runner, world):
    missing = runner.invoke(args=["users", "create", "--role", "hr", "--email", "x@example.vn", "--name", "X",
                                  "--tax-code", "0309876547", "--password", "a-long-password"])
    assert missing.exit_code != 0 and "no enterprise" in missing.output
    ok = runner.invoke(args=["users", "create", "--role", "hr", "--email", "x@example.vn", "--name", "X",
                             "--tax-code", "0301234562", "--password", "a-long-password"])
    assert ok.exit_code == 0, ok.output


def test_users_create_refuses_weak_passwords_unknown_units_and_taken_emails(runner, world):
    weak = runner.invoke(args=["users", "create", "--role", "admin", "--email", "a@b.vn", "--name", "A",
                               "--password", "short"])
    assert weak.exit_code != 0 and "at least 10" in weak.output
    unknown = runner.invoke(args=["users", "create", "--role", "official", "--unit", "district99",
                                  "--email", "a@b.vn", "--name", "A", "--password", "a-long-password"])
    assert unknown.exit_code != 0 and "district99" in unknown.output
    taken = runner.invoke(args=["users", "create", "--role", "admin", "--email", world.admin, "--name", "A",
                                "--password", "a-long-password"])
    assert taken.exit_code != 0 and "already exists" in taken.output


def test_reset_2fa_forgets_the_second_factor_and_ends_every_session(app, client, auth, runner, world, totp):
    totp.enrol(world.official_x)
    assert auth.login(world.official_x).headers["Location"].endswith("/login/two-factor")
    assert client.submit("/login/two-factor", {"code": totp.code(world.official_x)}).status_code == 302
    assert client.get("/account").status_code == 200
    result = runner.invoke(args=["users", "reset-2fa", world.official_x.upper()])
    assert result.exit_code == 0, result.output
    assert "reset" in result.output
    assert client.get("/account").headers["Location"].startswith("/login")  # the session ended
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == world.official_x))
        assert not user.has_two_factor and user.totp_secret is None and user.recovery_codes == []
    # Signing in now takes the password alone (in development); production would ask to enrol again.
    assert auth.login(world.official_x).headers["Location"] == "/home"


def test_reset_2fa_of_an_unknown_address_says_so(runner, world):
    result = runner.invoke(args=["users", "reset-2fa", "nobody@example.vn"])
    assert result.exit_code != 0 and "no account uses" in result.output
