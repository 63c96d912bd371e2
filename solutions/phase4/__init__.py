"""Reference solutions of phase 4: tumbling windows on event time."""
