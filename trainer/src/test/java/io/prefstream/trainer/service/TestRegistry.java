package io.prefstream.trainer.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A schema registry small enough for a test (register a schema, fetch it by id, over Confluent's
 * REST paths), so that a child JVM and the test JVM share schema ids.
 */
final class TestRegistry implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpServer server;
  private final List<String> schemas = new ArrayList<>();

  TestRegistry() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private synchronized void handle(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    int status = 200;
    String answer;
    if (ex.getRequestMethod().equals("POST") && path.endsWith("/versions")) {
      String schema = JSON.readTree(ex.getRequestBody()).get("schema").asText();
      int index = schemas.indexOf(schema);
      if (index < 0) {
        schemas.add(schema);
        index = schemas.size() - 1;
      }
      answer = "{\"id\":" + (index + 1) + "}";
    } else if (path.startsWith("/schemas/ids/")) {
      int id = Integer.parseInt(path.substring("/schemas/ids/".length()));
      answer = JSON.createObjectNode().put("schema", schemas.get(id - 1)).toString();
    } else {
      status = 404;
      answer = "{\"error_code\":40401,\"message\":\"not in the test registry\"}";
    }
    byte[] out = answer.getBytes(StandardCharsets.UTF_8);
    ex.sendResponseHeaders(status, out.length);
    ex.getResponseBody().write(out);
    ex.close();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
