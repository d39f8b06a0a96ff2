"""The district-scale benchmark of issue 12: the portal as a user runs it, loaded from other
processes, each figure against a floor measured in the same run."""
