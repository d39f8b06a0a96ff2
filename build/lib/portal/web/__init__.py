"""The web layer: middleware, page rendering and the views of each area."""
