from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from portal.navigation import home_endpoint
from portal.plugins import current_registry

bp = Blueprint("home", __name__, template_folder="templates")


@bp.get("/")
def index():
    """Say what the portal is for and lead each visitor to their task."""
    return render_template("home/index.html", units=list(current_registry().units.values()))


@bp.get("/home")
@login_required
def dashboard():
    """Send a signed-in user to their role's main page."""
    endpoint = home_endpoint(current_user)
    if endpoint:
        return redirect(url_for(endpoint))
    return render_template("home/dashboard.html")


@bp.get("/travel-permit")
def travel_permit():
    """Explain that units outside the pilot keep the travel permit (giấy đi đường)."""
    return render_template("home/travel_permit.html", units=list(current_registry().units.values()))
