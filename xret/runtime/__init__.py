"""Where and how computation runs: the device and precision policy (``device``), below the models
and the engine that both ask it."""
