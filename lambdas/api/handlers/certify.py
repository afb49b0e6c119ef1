"""Lambda entry point of the API's certify routes."""

from lambdas.api.app import create_app, lambda_handler_for
from lambdas.api.routes.writes import certification

app = create_app(certification)
lambda_handler = lambda_handler_for(app)
