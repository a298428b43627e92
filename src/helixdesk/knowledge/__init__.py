"""Knowledge base: ingestion, hybrid retrieval, grounding and the product-problem-solution graph."""
