"""The application's pages, one module per area; each registers its routes."""
