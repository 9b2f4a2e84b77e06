import Foundation
import Testing

/// The host's offsets of a zone (`date … +%z`) are read by one probe, ZoneOffsetsProbe: a second
/// reader would be a second parser of the same fact.
struct ZoneOffsetRuleTests {
    @Test func theZoneOffsetsAreReadByOneProbe() throws {
        #expect(try HostProbeRuleTests.files(matching: [#"\bdate\b[^\n;|&)]*%z"#]) == [HostProbeRuleTests.probes])
    }
}
