"""Production settings plus one bare view, the floor of bench/scale.py. Used only by the benchmark."""

from tangshan_portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.public_urls"
