package io.prefstream.trainer.dpo;

/**
 * The slots of an (R, T) batch whose hidden state scores a response token: the only slots whose
 * logits anyone reads. A row here is one response (N = B·K of them, whatever the batch's layout);
 * rows are in order, so rows [r0, r1) own entries {@code [rowStarts[r0], rowStarts[r1])}. A prompt's last slot appears once
 * for each of its responses, with each one's first token as target.
 *
 * @param positions for each scored token, the slot that scores it, as an index into the layout's
 *     outputs: a row of the (P, D) hidden states a pass returns
 * @param targets the response token that slot scores
 * @param rowStarts N + 1 offsets into {@code positions}
 */
public record ScoredPositions(long[] positions, long[] targets, int[] rowStarts) {

  public int rows() {
    return rowStarts.length - 1;
  }

  /** Scored positions of rows [fromRow, toRow). */
  public int count(int fromRow, int toRow) {
    return rowStarts[toRow] - rowStarts[fromRow];
  }
}
