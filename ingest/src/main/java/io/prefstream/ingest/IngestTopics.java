package io.prefstream.ingest;

/** The topics ingest reads and writes. */
public record IngestTopics(String feedbackPairs, String feedbackRatings, String feedbackRankings, String preferencePairs, String dlq) {}
