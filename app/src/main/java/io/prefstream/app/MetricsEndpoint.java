package io.prefstream.app;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * A Prometheus scrape endpoint, {@code GET /metrics}, over a Micrometer registry, bound to one
 * address ({@code metrics.host}): the loopback address by default, so that a laptop does not
 * publish its metrics to the network; the Docker image binds every interface.
 */
final class MetricsEndpoint implements AutoCloseable {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final HttpServer server;

  /**
   * @param host the address to bind, e.g. 127.0.0.1 or 0.0.0.0
   * @param port -1 for no endpoint (the registry still counts), 0 for a free port
   */
  MetricsEndpoint(String host, int port) {
    if (port < 0) {
      server = null;
      return;
    }
    try {
      server = HttpServer.create(new InetSocketAddress(host, port), 0);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the metrics endpoint on " + host + ":" + port + " (metrics.host, metrics.port)", e);
    }
    server.createContext("/metrics", exchange -> {
      byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
  }

  PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Where to scrape, e.g. {@code http://127.0.0.1:9464/metrics}, or "off". */
  String url() {
    return server == null ? "off" : "http://" + server.getAddress().getHostString() + ":" + port() + "/metrics";
  }

  /** The bound port, or -1 when there is no endpoint. */
  int port() {
    return server == null ? -1 : server.getAddress().getPort();
  }

  @Override
  public void close() {
    if (server != null) server.stop(0);
    registry.close();
  }
}
