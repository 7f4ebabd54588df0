"""The cloud's vocabulary: the request models of the official SDKs, generated at development
time by ``hack/vocabulary/generate.py`` (one module per family of calls) and committed. The
CRD modules compose them with the operator's own fields; the API client sends them as they
are (``SdkModel.to_wire``)."""
