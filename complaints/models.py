# Models arrive with the enforcement and complaints issues.
