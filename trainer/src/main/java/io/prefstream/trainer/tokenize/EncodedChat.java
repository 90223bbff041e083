package io.prefstream.trainer.tokenize;

import java.util.List;

/** A rendered conversation as token ids: the prompt's, and each response's completion. */
public record EncodedChat(int[] prompt, List<int[]> completions) {}
