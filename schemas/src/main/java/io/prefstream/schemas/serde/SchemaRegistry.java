package io.prefstream.schemas.serde;

import org.apache.avro.Schema;

/** The part of a Confluent-compatible schema registry that the serde needs. */
public interface SchemaRegistry {

  /** A schema as registered under a subject. */
  record Registered(String subject, int version, int id, Schema schema) {}

  /** Registers the schema under the subject (idempotent) and returns its global id. */
  int register(String subject, Schema schema);

  /** The schema with this global id; {@link SchemaRegistryException} when there is none. */
  Schema byId(int id);

  /** The subject's latest version; {@link SchemaRegistryException} when the subject is unknown. */
  Registered latest(String subject);

  /** Whether the schema may be registered as the subject's next version. */
  boolean isCompatible(String subject, Schema schema);

  /** The registry for this configuration: the in-memory one of a mock:// scope, else a REST client. */
  static SchemaRegistry of(SerdeConfig config) {
    return config.isMock()
        ? InMemorySchemaRegistry.scope(config.registryUrl().substring("mock://".length()))
        : new RestSchemaRegistry(config);
  }
}
