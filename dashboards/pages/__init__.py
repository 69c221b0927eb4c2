"""The pages of the station, one module each."""
