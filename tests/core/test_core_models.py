
import pytest
from sqlalchemy.exc import IntegrityError

from portal.auth.models import User
from portal.extensions import db
from portal.testing.fixtures import make_enterprise, make_worker
from portal.workers.models import Worker, mask_citizen_id


def test_an_official_must_belong_to_a_unit(app):
    with app.app_context():
        db.session.add(User(email="o@example.vn", password_hash="x", full_name="O", role="official"))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_hr_cannot_also_hold_a_unit(app, world):
    with app.app_context():
        db.session.add(User(email="h@example.vn", password_hash="x", full_name="H", role="hr",
                            enterprise_id=world.enterprise_a, unit_id=1))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_one_active_registration_per_citizen_id_in_the_whole_portal(app, world):
    with app.app_context():
        enterprise_b = db.session.get(Worker, world.worker_b).enterprise
        with pytest.raises(IntegrityError):
            make_worker(db.session, enterprise_b, citizen_id="079090001234")  # worker_a's ID, still active
        db.session.rollback()
        db.session.get(Worker, world.worker_a).active = False
        db.session.flush()
        enterprise_b = db.session.get(Worker, world.worker_b).enterprise
        again = make_worker(db.session, enterprise_b, citizen_id="079090001234")
        db.session.commit()
        assert again.id is not None


def test_masking_keeps_only_the_last_four_digits():
    assert mask_citizen_id("079180611544") == "••••••••1544"
    assert mask_citizen_id("025123456") == "•••••3456"
    assert mask_citizen_id(None) == ""


def test_enterprise_version_counts_changes(app):
    with app.app_context():
        registry = app.extensions["portal.plugins"].registry
        enterprise = make_enterprise(db.session, registry, "district7", "Công ty X", "0309876547", "pending")
        db.session.commit()
        assert enterprise.version == 1
        enterprise.status = "approved"
        db.session.commit()
        assert enterprise.version == 2
