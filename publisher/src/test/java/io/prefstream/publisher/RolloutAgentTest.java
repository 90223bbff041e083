package io.prefstream.publisher;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.prefstream.schemas.CheckpointChunk;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RolloutAgentTest {
  @TempDir Path tmp;

  private CheckpointCutter.Cut cut(long version, double accuracy) throws Exception {
    return new CheckpointCutter(500).cut(Fixtures.folder(tmp.resolve("src-" + version), 1200, version), null, Fixtures.manifest("m", version, accuracy));
  }

  private static void feed(RolloutAgent agent, CheckpointCutter.Cut cut) {
    cut.chunks().forEach(agent::accept);
    agent.accept(cut.manifest()).ifPresent(agent::apply);
  }

  @Test
  void goodCheckpoint_isWrittenAndMadeCurrent_oldVersionsPruned() throws Exception {
    VersionFolders folders = new VersionFolders(tmp.resolve("serve"));
    RolloutAgent agent = new RolloutAgent("m", folders, new CheckpointAssembler(Optional.empty()), OptionalDouble.empty(), 2, ServingNotifier.NONE);
    for (long v = 1; v <= 3; v++) feed(agent, cut(v, 0.9));
    assertThat(folders.current()).contains(3L);
    assertThat(folders.versions()).containsExactly(2L, 3L);
    assertThat(tmp.resolve("serve/current/model.safetensors")).hasSameBinaryContentAs(tmp.resolve("src-3/model.safetensors"));
    assertThat(tmp.resolve("serve/current/tokenizer/tokenizer.json")).exists();
  }

  @Test
  void corruptCheckpoint_leavesCurrentAlone() throws Exception {
    VersionFolders folders = new VersionFolders(tmp.resolve("serve"));
    RolloutAgent agent = new RolloutAgent("m", folders, new CheckpointAssembler(Optional.empty()), OptionalDouble.empty(), 3, ServingNotifier.NONE);
    feed(agent, cut(1, 0.9));
    CheckpointCutter.Cut bad = cut(2, 0.9);
    bad.chunks().stream().filter(c -> c.getIndex() != 0).forEach(agent::accept);
    assertThat(agent.accept(bad.manifest())).isEmpty();
    assertThat(folders.current()).contains(1L);
    assertThat(folders.versions()).containsExactly(1L);
  }

  @Test
  void belowMinAccuracy_isRecordedButNotPromoted() throws Exception {
    VersionFolders folders = new VersionFolders(tmp.resolve("serve"));
    RolloutAgent agent = new RolloutAgent("m", folders, new CheckpointAssembler(Optional.empty()), OptionalDouble.of(0.8), 3, ServingNotifier.NONE);
    feed(agent, cut(1, 0.85));
    feed(agent, cut(2, 0.6));
    assertThat(folders.current()).contains(1L);
    assertThat(folders.versions()).containsExactly(1L, 2L);
  }

  @Test
  void otherModels_areIgnored() throws Exception {
    RolloutAgent agent = new RolloutAgent("other", new VersionFolders(tmp.resolve("serve")), new CheckpointAssembler(Optional.empty()),
        OptionalDouble.empty(), 3, ServingNotifier.NONE);
    CheckpointCutter.Cut cut = cut(1, 0.9);
    cut.chunks().forEach(agent::accept);
    assertThat(agent.accept(cut.manifest())).isEmpty();
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
      RolloutAgent agent = new RolloutAgent("m", folders, new CheckpointAssembler(Optional.empty()), OptionalDouble.empty(), 5,
          new VllmNotifier("http://127.0.0.1:" + vllm.getAddress().getPort()));
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
    RolloutAgent agent = new RolloutAgent("m", folders, new CheckpointAssembler(Optional.empty()), OptionalDouble.empty(), 3,
        new HookNotifier("echo \"$PREFSTREAM_MODEL $PREFSTREAM_VERSION\" >> " + log));
    feed(agent, cut(1, 0.9));
    assertThat(Files.readString(log).strip()).isEqualTo("m 1");
  }
}
