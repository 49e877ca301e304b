"""GPT Pro knowledge base: documents, their chunks, embeddings and hybrid retrieval."""
