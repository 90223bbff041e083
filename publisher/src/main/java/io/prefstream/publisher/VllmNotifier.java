package io.prefstream.publisher;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Hot-swaps LoRA adapters in a vLLM server (runtime LoRA updating enabled) through its documented
 * endpoints: {@code POST /v1/load_lora_adapter} for the new version, named {@code <model>-v<version>},
 * and only once that succeeded {@code POST /v1/unload_lora_adapter} for the previous one.
 */
public final class VllmNotifier implements ServingNotifier {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final URI base;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  public VllmNotifier(String baseUrl) {
    this.base = URI.create(baseUrl.replaceAll("/+$", "") + "/");
  }

  static String adapterName(String model, long version) {
    return model + "-v" + version;
  }

  @Override
  public void activate(String model, long version, Path folder, long previous) {
    post("v1/load_lora_adapter", JSON.createObjectNode().put("lora_name", adapterName(model, version)).put("lora_path", folder.toAbsolutePath().toString()).toString());
    if (previous >= 0) post("v1/unload_lora_adapter", JSON.createObjectNode().put("lora_name", adapterName(model, previous)).toString());
  }

  private void post(String path, String json) {
    HttpRequest request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofMinutes(2))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build();
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() / 100 != 2) {
        throw new IllegalStateException("vLLM " + path + " answered HTTP " + response.statusCode() + ": " + response.body());
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot reach vLLM at " + base + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while calling vLLM", e);
    }
  }
}
