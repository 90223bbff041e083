package io.prefstream.schemas.serde;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

/**
 * The registry behind {@code mock://<scope>}: in memory, shared by every serde of the JVM that names
 * the same scope, as Confluent's mock registry is. The embedded default.
 */
final class InMemorySchemaRegistry implements SchemaRegistry {
  private static final Map<String, InMemorySchemaRegistry> SCOPES = new ConcurrentHashMap<>();

  private final List<Schema> schemasById = new ArrayList<>();
  private final Map<String, List<Integer>> idsBySubject = new HashMap<>();

  static InMemorySchemaRegistry scope(String scope) {
    return SCOPES.computeIfAbsent(scope, s -> new InMemorySchemaRegistry());
  }

  @Override
  public synchronized int register(String subject, Schema schema) {
    int id = schemasById.indexOf(schema);
    if (id < 0) {
      schemasById.add(schema);
      id = schemasById.size() - 1;
    }
    List<Integer> versions = idsBySubject.computeIfAbsent(subject, s -> new ArrayList<>());
    if (!versions.contains(id + 1)) versions.add(id + 1);
    return id + 1; // ids start at 1, as a registry's do
  }

  @Override
  public synchronized Schema byId(int id) {
    if (id < 1 || id > schemasById.size()) {
      throw new SchemaRegistryException(404, 40403, "schema id " + id + " is not in registry mock scope", null);
    }
    return schemasById.get(id - 1);
  }

  @Override
  public synchronized Registered latest(String subject) {
    List<Integer> versions = idsBySubject.get(subject);
    if (versions == null || versions.isEmpty()) {
      throw new SchemaRegistryException(404, 40401, "subject " + subject + " not found", null);
    }
    int id = versions.get(versions.size() - 1);
    return new Registered(subject, versions.size(), id, byId(id));
  }

  @Override
  public synchronized boolean isCompatible(String subject, Schema schema) {
    List<Integer> versions = idsBySubject.get(subject);
    if (versions == null || versions.isEmpty()) return true;
    Schema previous = byId(versions.get(versions.size() - 1));
    // BACKWARD, the registry's default: the new schema reads what the previous one wrote
    return SchemaCompatibility.checkReaderWriterCompatibility(schema, previous).getType()
        == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE;
  }
}
