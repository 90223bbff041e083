package io.prefstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

class MetricsEndpointTest {

  @Test
  void bindsTheGivenAddress_andServesPrometheusText() throws Exception {
    try (MetricsEndpoint endpoint = new MetricsEndpoint("127.0.0.1", 0)) {
      endpoint.registry().counter("prefstream.test.hits").increment();
      assertThat(endpoint.url()).startsWith("http://127.0.0.1:").endsWith("/metrics");
      HttpResponse<String> scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(endpoint.url())).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(scrape.statusCode()).isEqualTo(200);
      assertThat(scrape.body()).contains("prefstream_test_hits_total 1.0");
    }
  }

  @Test
  void portMinusOne_opensNothing() {
    try (MetricsEndpoint endpoint = new MetricsEndpoint("127.0.0.1", -1)) {
      assertThat(endpoint.url()).isEqualTo("off");
    }
  }
}
