"""The provider's pages about complaints, ratings and appeals; joined into the `provider:` namespace."""

provider_urls = []
