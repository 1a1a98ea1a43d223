"""A toy encoder whose rankings can be worked out by hand.

A text's vector counts the weather words it contains (``sun``, ``rain``, ``snow``, in any of the
task's languages, which share them) plus a constant 1: texts with the same weather word get equal
scores, and a text with none ties with everything.
"""

import re

import numpy as np

WORDS = ("sun", "rain", "snow")


class WeatherEncoder:
    dim = len(WORDS) + 1
    revision = "weather-1"

    def encode(self, texts, role=None):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        out[:, -1] = 1.0
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                if word in WORDS:
                    out[row, WORDS.index(word)] += 1.0
        return out
