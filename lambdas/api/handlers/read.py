"""Lambda entry point of the API's read routes."""

from lambdas.api.app import create_app, lambda_handler_for
from lambdas.api.routes import pages, read

app = create_app(read.router, pages.router)
lambda_handler = lambda_handler_for(app)
