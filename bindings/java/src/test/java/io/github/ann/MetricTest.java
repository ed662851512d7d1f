package io.github.ann;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Names, versions and which library was loaded. */
class MetricTest {
    @Test
    void namesParseAsTheLibraryParsesThem() {
        assertEquals(Metric.ANGULAR, Metric.fromName("cosine"));
        for (Metric metric : Metric.values()) {
            assertEquals(metric.name().toLowerCase(java.util.Locale.ROOT), metric.canonicalName());
            assertEquals(metric, Metric.fromName(metric.canonicalName()));
        }
    }

    @Test
    void unknownNameIsAnArgumentErrorWithTheLibrarysMessage() {
        AnnArgumentException e = assertThrows(AnnArgumentException.class, () -> Metric.fromName("cosinus"));
        assertEquals(Status.INVALID_ARGUMENT, e.status());
        assertTrue(e.getMessage().contains("cosinus"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Metric.fromName("ang\0ular"));
    }

    @Test
    void versions() {
        assertEquals(1, AnnIndex.abiVersion());
        assertTrue(AnnIndex.version().matches("\\d+\\.\\d+\\.\\d+.*"), AnnIndex.version());
        assertFalse(AnnIndex.libraryPath().isEmpty());
    }

    @Test
    void theLibraryNamedByAnnLibIsTheOneLoaded() throws Exception {
        String annLib = System.getenv("ANN_LIB");
        if (annLib != null) {
            assertEquals(annLib, AnnIndex.libraryPath());
        } else {
            assertTrue(AnnIndex.libraryPath().contains("libann.so"), AnnIndex.libraryPath());
        }
    }
}
