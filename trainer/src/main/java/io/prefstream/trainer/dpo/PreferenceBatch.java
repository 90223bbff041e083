package io.prefstream.trainer.dpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.prefstream.trainer.model.TokenLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.LongStream;

/**
 * B examples of K responses each as one batch for one forward pass. How the examples' tokens sit
 * in the (R, T) slots is the {@link Layout}: by default each prompt is computed once for its K
 * responses (a shared-prefix segment: the prompt, then the responses one after the other, each
 * attending to the prompt and to itself only and positioned right after the prompt) and several
 * segments share a row (block-diagonal attention), so little is computed on padding. Every response
 * so gets the hidden states it would get alone, and backward sends each response's gradient into
 * the shared prompt slots, summed over the responses as in K separate sequences. Response k of
 * example b is scored row {@code b·K + k}, whatever the layout.
 *
 * @param layout (R, T) slots: segments, then padding (id 0, attending to nothing); its outputs are
 *     the slots that score a token, so the model's last feed-forward half runs there only
 * @param weights (B) float32 example weights
 * @param examples B
 * @param responsesPerExample K
 * @param scored where each response's tokens are scored: its first by the prompt's last slot, the
 *     others by the response's own previous slot
 * @param tokens prompt + response tokens summed over the responses, as K separate sequences count
 */
public record PreferenceBatch(
    TokenLayout layout, NDArray weights, int examples, int responsesPerExample, ScoredPositions scored, long tokens) {

  /** Where the tokens of a batch go; each layout gives the same log-probabilities and gradients. */
  public enum Layout {
    /** Each response its own row after its own copy of the prompt, rows padded to the longest: the textbook batch. */
    PADDED,
    /** One row per example: the prompt once, then its K responses; rows padded to the longest. */
    SHARED,
    /**
     * As {@link #SHARED}, and examples packed first-fit-decreasing into rows no longer than the
     * longest example, so attention per row costs no more than that example's while rows hold
     * little padding; everything but attention then runs on the tokens alone, none on padding
     * ({@link TokenLayout.Occupied}).
     */
    PACKED
  }

  /** Builds the batch on {@code manager} in the {@link Layout#PACKED} layout. */
  public static PreferenceBatch of(List<PreferenceExample> examples, NDManager manager) {
    return of(examples, Layout.PACKED, manager);
  }

  /** Builds the batch on {@code manager}; all examples must have the same number of responses. */
  public static PreferenceBatch of(List<PreferenceExample> examples, Layout layout, NDManager manager) {
    if (examples.isEmpty()) throw new IllegalArgumentException("a batch needs at least one example");
    int k = examples.get(0).responses().size();
    List<int[]> prompts = new ArrayList<>(examples.size());
    List<List<int[]>> responses = new ArrayList<>(examples.size());
    float[] weights = new float[examples.size()];
    for (int b = 0; b < examples.size(); b++) {
      PreferenceExample e = examples.get(b);
      if (e.responses().size() != k) {
        throw new IllegalArgumentException("example " + e.id() + " has " + e.responses().size() + " responses, the batch " + k);
      }
      weights[b] = (float) e.weight();
      prompts.add(e.prompt());
      responses.add(e.responses());
    }
    return build(prompts, responses, weights, k, layout, manager);
  }

  /** Each completion as an example of its own (K = 1) and weight 1: for likelihoods, not preferences. */
  public static PreferenceBatch ofCompletions(List<Completion> completions, NDManager manager) {
    if (completions.isEmpty()) throw new IllegalArgumentException("a batch needs at least one completion");
    float[] weights = new float[completions.size()];
    Arrays.fill(weights, 1f);
    List<int[]> prompts = completions.stream().map(Completion::prompt).toList();
    List<List<int[]>> responses = completions.stream().map(c -> List.of(c.response())).toList();
    return build(prompts, responses, weights, 1, Layout.PACKED, manager);
  }

  /**
   * A prompt followed by some of its example's responses: the slots one sequence group takes in a row.
   *
   * @param firstScoredRow the scored row ({@code b·K + k}) of the segment's first response
   */
  private record Segment(int[] prompt, List<int[]> responses, int firstScoredRow, int length) {
    static Segment of(int[] prompt, List<int[]> responses, int firstScoredRow) {
      return new Segment(prompt, responses, firstScoredRow, prompt.length + responses.stream().mapToInt(r -> r.length).sum());
    }
  }

  private static PreferenceBatch build(
      List<int[]> prompts, List<List<int[]>> responses, float[] weights, int k, Layout layout, NDManager manager) {
    int b = prompts.size();
    List<Segment> segments = new ArrayList<>();
    int[] rowStarts = new int[b * k + 1];
    int span = 0;
    long tokens = 0;
    for (int e = 0; e < b; e++) {
      int p = prompts.get(e).length;
      for (int j = 0; j < k; j++) {
        int[] r = responses.get(e).get(j);
        rowStarts[e * k + j + 1] = rowStarts[e * k + j] + r.length;
        span = Math.max(span, p + r.length);
        tokens += p + r.length;
        if (layout == Layout.PADDED) segments.add(Segment.of(prompts.get(e), List.of(r), e * k + j));
      }
      if (layout != Layout.PADDED) segments.add(Segment.of(prompts.get(e), responses.get(e), e * k));
    }
    int t = segments.stream().mapToInt(Segment::length).max().orElseThrow();
    List<List<Segment>> rows = layout == Layout.PACKED ? firstFitDecreasing(segments, t) : segments.stream().map(List::of).toList();
    int n = rows.size();
    long[] ids = new long[n * t];
    long[] positionIds = new long[n * t];
    boolean[] visible = new boolean[n * t * t];
    long[] positions = new long[rowStarts[b * k]];
    long[] targets = new long[positions.length];
    for (int row = 0; row < n; row++) {
      int offset = row * t;
      for (Segment segment : rows.get(row)) {
        place(segment, offset, t, ids, positionIds, visible, positions, targets, rowStarts);
        offset += segment.length();
      }
    }
    long[] outputs = LongStream.of(positions).sorted().distinct().toArray(); // a prompt's last slot scores each of its responses
    for (int i = 0; i < positions.length; i++) positions[i] = Arrays.binarySearch(outputs, positions[i]);
    Optional<TokenLayout.Occupied> occupied = layout == Layout.PACKED ? Optional.of(occupied(rows, t, manager)) : Optional.empty();
    TokenLayout tokenLayout = new TokenLayout(manager.create(ids, new Shape(n, t)), manager.create(positionIds, new Shape(n, t)),
        manager.create(visible, new Shape(n, t, t)), span, Optional.of(manager.create(outputs)), occupied);
    return new PreferenceBatch(tokenLayout, manager.create(weights, new Shape(b)), b, k, new ScoredPositions(positions, targets, rowStarts), tokens);
  }

  /** The slots the rows' segments fill, from each row's start; a padding slot reads its row's last token. */
  private static TokenLayout.Occupied occupied(List<List<Segment>> rows, int t, NDManager manager) {
    long[] slotTokens = new long[rows.size() * t];
    long[] tokenSlots = new long[rows.stream().flatMap(List::stream).mapToInt(Segment::length).sum()];
    int token = 0;
    for (int row = 0; row < rows.size(); row++) {
      int used = rows.get(row).stream().mapToInt(Segment::length).sum();
      for (int column = 0; column < t; column++) {
        if (column < used) tokenSlots[token++] = (long) row * t + column;
        slotTokens[row * t + column] = token - 1;
      }
    }
    return new TokenLayout.Occupied(manager.create(tokenSlots), manager.create(slotTokens));
  }

  /** Segments, longest first, each into the first row with room left (rows of {@code capacity} slots). */
  private static List<List<Segment>> firstFitDecreasing(List<Segment> segments, int capacity) {
    List<Segment> longestFirst = new ArrayList<>(segments);
    longestFirst.sort(Comparator.comparingInt(Segment::length).reversed());
    List<List<Segment>> rows = new ArrayList<>();
    List<Integer> used = new ArrayList<>();
    for (Segment segment : longestFirst) {
      int row = 0;
      while (row < rows.size() && used.get(row) + segment.length() > capacity) row++;
      if (row == rows.size()) {
        rows.add(new ArrayList<>());
        used.add(0);
      }
      rows.get(row).add(segment);
      used.set(row, used.get(row) + segment.length());
    }
    return rows;
  }

  /**
   * Writes a segment from flat slot {@code start} (row·T + column): its tokens, their positions in
   * its own sequences, who they see, and where its responses are scored.
   */
  private static void place(
      Segment segment, int start, int t, long[] ids, long[] positionIds, boolean[] visible, long[] positions, long[] targets, int[] rowStarts) {
    int[] prompt = segment.prompt();
    int p = prompt.length;
    int column = start % t;
    for (int i = 0; i < p; i++) {
      ids[start + i] = prompt[i];
      positionIds[start + i] = i;
      int query = (start + i) * t;
      Arrays.fill(visible, query + column, query + column + i + 1, true); // the prompt up to itself
    }
    int offset = p;
    int scoredRow = segment.firstScoredRow();
    for (int[] response : segment.responses()) {
      int first = rowStarts[scoredRow++];
      for (int j = 0; j < response.length; j++) {
        int slot = start + offset + j;
        ids[slot] = response[j];
        positionIds[slot] = p + j;
        int query = slot * t;
        Arrays.fill(visible, query + column, query + column + p, true);                        // the prompt
        Arrays.fill(visible, query + column + offset, query + column + offset + j + 1, true); // its response up to itself
        positions[first + j] = j == 0 ? start + p - 1 : slot - 1; // the slot before scores token j
        targets[first + j] = response[j];
      }
      offset += response.length;
    }
  }

  /** (B, K) float32: the number of tokens of each response. */
  public NDArray responseLengths() {
    float[] lengths = new float[scored.rows()];
    for (int r = 0; r < lengths.length; r++) lengths[r] = scored.count(r, r + 1);
    return weights.getManager().create(lengths, new Shape(examples, responsesPerExample));
  }
}
