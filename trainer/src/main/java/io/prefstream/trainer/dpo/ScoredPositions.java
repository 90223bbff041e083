package io.prefstream.trainer.dpo;

/**
 * The positions of a padded (N, T) batch whose next token is a response token: the only positions
 * whose logits anyone reads. Rows are in order, so rows [r0, r1) own positions
 * {@code [rowStarts[r0], rowStarts[r1])}.
 *
 * @param positions row·T + t for every scored position t, as an index into the batch's (N·T) rows
 * @param targets the token at t+1 that position t scores
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
