package io.prefstream.publisher;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RolloutAgentTest {
  @TempDir Path tmp;
  private final AtomicLong offset = new AtomicLong();
  private final AtomicInteger sources = new AtomicInteger();

  private Fixtures.Cut cut(long version, double accuracy) throws Exception {
    return cut(version, Fixtures.manifest("m", version, accuracy));
  }

  private Fixtures.Cut cut(long version, io.prefstream.schemas.CheckpointManifest.Builder manifest) throws Exception {
    return Fixtures.cut(Fixtures.folder(tmp.resolve("src-" + version + "-" + sources.incrementAndGet()), 1200, version), 500, manifest);
  }

  private RolloutAgent agent(VersionFolders folders, OptionalDouble minAccuracy, ServingNotifier notifier) {
    return new RolloutAgent("m", folders, Optional.empty(), PendingChunks.Limits.DEFAULT, minAccuracy, 2, notifier);
  }

  private void feed(RolloutAgent agent, Fixtures.Cut cut) {
    cut.chunks().forEach(c -> agent.accept(Fixtures.record(offset.getAndIncrement(), c)));
    agent.accept(Fixtures.record(offset.getAndIncrement(), cut.manifest())).ifPresent(agent::apply);
  }

  @Test
  void goodCheckpoint_isWrittenAndMadeCurrent_oldVersionsPruned() throws Exception {
    VersionFolders folders = new VersionFolders(tmp.resolve("serve"));
    RolloutAgent agent = agent(folders, OptionalDouble.empty(), ServingNotifier.NONE);
    for (long v = 1; v <= 3; v++) feed(agent, cut(v, 0.9));
    assertThat(folders.current()).contains(3L);
    assertThat(folders.versions()).containsExactly(2L, 3L);
    assertThat(tmp.resolve("serve/current/model.safetensors")).hasSameBinaryContentAs(tmp.resolve("src-3-3/model.safetensors"));
    assertThat(tmp.resolve("serve/current/tokenizer/tokenizer.json")).exists();
  }

  @Test
  void corruptCheckpoint_leavesCurrentAlone() throws Exception {
    VersionFolders folders = new VersionFolders(tmp.resolve("serve"));
    RolloutAgent agent = agent(folders, OptionalDouble.empty(), ServingNotifier.NONE);
    feed(agent, cut(1, 0.9));
    Fixtures.Cut bad = cut(2, 0.9);
    bad.chunks().stream().filter(c -> c.getIndex() != 0).forEach(c -> agent.accept(Fixtures.record(offset.getAndIncrement(), c)));
    assertThat(agent.accept(Fixtures.record(offset.getAndIncrement(), bad.manifest()))).isEmpty();
    assertThat(folders.current()).contains(1L);
    assertThat(folders.versions()).containsExactly(1L);
  }

  @Test
  void olderOrEqualVersions_areIgnored_neverRewritten() throws Exception {
    VersionFolders folders = new VersionFolders(tmp.resolve("serve"));
    List<Long> notified = new ArrayList<>();
    RolloutAgent agent = agent(folders, OptionalDouble.empty(), (model, version, folder, previous) -> notified.add(version));
    feed(agent, cut(1, 0.9));
    Fixtures.Cut two = cut(2, 0.9);
    feed(agent, two);
    long written = Files.getLastModifiedTime(tmp.resolve("serve/2/model.safetensors")).toMillis();
    try (LogLines log = new LogLines()) {
      feed(agent, two); // replayed byte for byte
      feed(agent, cut(1, 0.95)); // an older version re-published
      assertThat(log.lines()).anyMatch(l -> l.contains("ignored m v2") && l.contains("not newer than v2"))
          .anyMatch(l -> l.contains("ignored m v1") && l.contains("not newer than v2"));
    }
    assertThat(folders.current()).contains(2L);
    assertThat(notified).containsExactly(1L, 2L);
    assertThat(Files.getLastModifiedTime(tmp.resolve("serve/2/model.safetensors")).toMillis()).isEqualTo(written);
  }

  /**
   * A version folder left unpromoted (here refused by the gate) and then another checkpoint with
   * that version (a lineage started again): the agent serves the bytes it verified, not the folder.
   */
  @Test
  void versionFolderOnDisk_holdingAnotherCheckpoint_isReplacedByTheVerifiedOne() throws Exception {
    VersionFolders folders = new VersionFolders(tmp.resolve("serve"));
    RolloutAgent agent = agent(folders, OptionalDouble.of(0.8), ServingNotifier.NONE);
    feed(agent, cut(1, 0.85));
    feed(agent, cut(2, 0.6)); // written to serve/2, not promoted
    Path other = Fixtures.folder(tmp.resolve("other-2"), 1200, 99);
    try (LogLines log = new LogLines()) {
      feed(agent, Fixtures.cut(other, 500, Fixtures.manifest("m", 2, 0.9)));
      assertThat(log.lines()).anyMatch(l -> l.contains("m v2 is on disk already with other files") && l.contains("replaced"));
    }
    assertThat(folders.current()).contains(2L);
    assertThat(tmp.resolve("serve/current/model.safetensors")).hasSameBinaryContentAs(other.resolve("model.safetensors"));
    assertThat(tmp.resolve("serve/current/config.json")).hasSameTextualContentAs(other.resolve("config.json"));
  }

  /** The same checkpoint again after serving refused it once: its folder holds the manifest's files and is served as it is. */
  @Test
  void versionFolderOnDisk_holdingTheSameCheckpoint_isServedWithoutRewriting() throws Exception {
    VersionFolders folders = new VersionFolders(tmp.resolve("serve"));
    AtomicInteger refusals = new AtomicInteger(1);
    RolloutAgent agent = agent(folders, OptionalDouble.empty(), (model, version, folder, previous) -> {
      if (version == 2 && refusals.getAndDecrement() > 0) throw new IllegalStateException("serving is restarting");
    });
    feed(agent, cut(1, 0.9));
    Fixtures.Cut two = cut(2, 0.9);
    feed(agent, two);
    assertThat(folders.current()).contains(1L);
    Object written = Files.readAttributes(tmp.resolve("serve/2/model.safetensors"), BasicFileAttributes.class).fileKey();
    assertThat(written).as("the file system names files by key").isNotNull();
    feed(agent, two); // replayed
    assertThat(folders.current()).contains(2L);
    assertThat(Files.readAttributes(tmp.resolve("serve/current/model.safetensors"), BasicFileAttributes.class).fileKey()).isEqualTo(written);
  }

  @Test
  void restartedAgent_doesNotNotifyAgain_forTheVersionItApplied() throws Exception {
    VersionFolders folders = new VersionFolders(tmp.resolve("serve"));
    List<Long> notified = new ArrayList<>();
    ServingNotifier recording = (model, version, folder, previous) -> notified.add(version);
    Fixtures.Cut one = cut(1, 0.9);
    feed(agent(folders, OptionalDouble.empty(), recording), one);
    RolloutAgent restarted = agent(new VersionFolders(tmp.resolve("serve")), OptionalDouble.empty(), recording);
    feed(restarted, one);
    feed(restarted, cut(2, 0.9));
    assertThat(notified).containsExactly(1L, 2L);
  }

  @Test
  void pin_goesBackExplicitly_andHoldsUntilTheAgentRunsWithoutIt() throws Exception {
    VersionFolders folders = new VersionFolders(tmp.resolve("serve"));
    List<Long> notified = new ArrayList<>();
    ServingNotifier recording = (model, version, folder, previous) -> notified.add(version);
    RolloutAgent agent = agent(folders, OptionalDouble.empty(), recording);
    feed(agent, cut(1, 0.9));
    feed(agent, cut(2, 0.9));
    agent.pin(1, null, "unused: v1 is on disk");
    assertThat(folders.current()).contains(1L);
    feed(agent, cut(3, 0.9));
    assertThat(folders.current()).contains(1L);
    feed(agent(folders, OptionalDouble.empty(), recording), cut(3, 0.9)); // restarted without --pin
    assertThat(folders.current()).contains(3L);
    assertThat(notified).containsExactly(1L, 2L, 1L, 3L);
  }

  @Test
  void promotionGate_refusesLowMissingAndNaNAccuracy() throws Exception {
    VersionFolders folders = new VersionFolders(tmp.resolve("serve"));
    RolloutAgent agent = agent(folders, OptionalDouble.of(0.8), ServingNotifier.NONE);
    feed(agent, cut(1, 0.85));
    feed(agent, cut(2, 0.6));
    feed(agent, cut(3, Double.NaN));
    feed(agent, cut(4, Fixtures.manifest("m", 4, 0.9).setMetrics(Map.of("loss", 0.1))));
    assertThat(folders.current()).contains(1L);
    feed(agent, cut(5, 0.9));
    assertThat(folders.current()).contains(5L);
  }

  @Test
  void otherModels_areIgnored() throws Exception {
    RolloutAgent agent = new RolloutAgent("other", new VersionFolders(tmp.resolve("serve")), Optional.empty(), PendingChunks.Limits.DEFAULT,
        OptionalDouble.empty(), 3, ServingNotifier.NONE);
    Fixtures.Cut cut = cut(1, 0.9);
    cut.chunks().forEach(c -> agent.accept(Fixtures.record(offset.getAndIncrement(), c)));
    assertThat(agent.accept(Fixtures.record(offset.getAndIncrement(), cut.manifest()))).isEmpty();
  }

  @Test
  void vllm_loadsTheNewAdapterBeforeUnloadingTheOld_andKeepsTheOldWhenLoadFails() throws Exception {
    List<String> calls = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger failLoadsOfVersion = new AtomicInteger(3);
    HttpServer vllm = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    vllm.createContext("/v1/", ex -> {
      String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      String name = body.replaceAll(".*\"lora_name\":\"([^\"]+)\".*", "$1");
      calls.add(ex.getRequestMethod() + " " + ex.getRequestURI().getPath() + " " + name);
      boolean fail = ex.getRequestURI().getPath().endsWith("load_lora_adapter") && !ex.getRequestURI().getPath().contains("unload")
          && name.endsWith("-v" + failLoadsOfVersion.get());
      byte[] answer = (fail ? "{\"object\":\"error\",\"message\":\"cannot load\"}" : "Success: LoRA adapter '" + name + "' added successfully.")
          .getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(fail ? 400 : 200, answer.length);
      ex.getResponseBody().write(answer);
      ex.close();
    });
    vllm.start();
    try {
      VersionFolders folders = new VersionFolders(tmp.resolve("serve"));
      RolloutAgent agent = agent(folders, OptionalDouble.empty(), new VllmNotifier("http://127.0.0.1:" + vllm.getAddress().getPort()));
      feed(agent, cut(1, 0.9));
      feed(agent, cut(2, 0.9));
      feed(agent, cut(3, 0.9)); // vLLM refuses it
      assertThat(calls).containsExactly(
          "POST /v1/load_lora_adapter m-v1",
          "POST /v1/load_lora_adapter m-v2",
          "POST /v1/unload_lora_adapter m-v1",
          "POST /v1/load_lora_adapter m-v3");
      assertThat(folders.current()).contains(2L);
    } finally {
      vllm.stop(0);
    }
  }

  @Test
  void hook_runsWithTheVersionInItsEnvironment() throws Exception {
    Path log = tmp.resolve("hook.log");
    VersionFolders folders = new VersionFolders(tmp.resolve("serve"));
    RolloutAgent agent = agent(folders, OptionalDouble.empty(), new HookNotifier("echo \"$PREFSTREAM_MODEL $PREFSTREAM_VERSION\" >> " + log));
    feed(agent, cut(1, 0.9));
    assertThat(Files.readString(log).strip()).isEqualTo("m 1");
  }
}
