"""The documented feedback-import contract for tweets, as the tests run it (one place to keep it)."""

TWEET_IMPORT = (
    "feedback", "import", "--source", "social", "--id-column", "tweet_id", "--text-column", "text",
    "--time-column", "tweet_created", "--segment-column", "airline",
)  # fmt: skip
