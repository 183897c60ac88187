"""FAQ matching: normalise a member's question, rank the FAQ entries, render the answer."""
