"""Lambda entry point of the API's read routes."""

from lambdas.api.app import create_app, lambda_handler_for
from lambdas.api.routes.read import router

app = create_app(router)
lambda_handler = lambda_handler_for(app)
