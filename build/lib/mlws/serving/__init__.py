"""`mlws serve RUN`: a run's model behind a Ray Serve endpoint, with a demo page."""
