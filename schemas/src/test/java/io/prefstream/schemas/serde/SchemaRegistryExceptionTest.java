package io.prefstream.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which registry answers say the value may be valid (a reader stops and retries) and which are about the request itself. */
class SchemaRegistryExceptionTest {

  @ParameterizedTest
  @ValueSource(ints = {0, 401, 403, 407, 408, 429, 500, 502, 503, 504})
  void unreachableServerErrorsCredentialsProxyTimeoutAndRateLimit_areUnavailable(int status) {
    assertThat(new SchemaRegistryException(status, 0, "HTTP " + status, null).unavailable()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(ints = {400, 404, 409, 422})
  void unknownSchemaIdOrSubject_andIncompatibleOrInvalidSchema_areTheRequestsFault(int status) {
    assertThat(new SchemaRegistryException(status, status * 100 + 1, "HTTP " + status, null).unavailable()).isFalse();
  }
}
