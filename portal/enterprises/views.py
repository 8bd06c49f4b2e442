from flask import Blueprint

bp = Blueprint("enterprises", __name__, template_folder="templates")
