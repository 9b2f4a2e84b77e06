@testable import BotOpsKit
import Foundation
import Testing

/// The roles file's sha256 in the record: an additive field, unknown (absent) in older records.
struct BackupRecordRolesTests {
    @Test func theRolesSha256IsRecordedAndAnOlderRecordWithoutItReadsAsUnknownAndWritesBackUnchanged() throws {
        var record = BackupRecordTests.record()
        let older = record.json
        #expect(!older.contains("roles_sha256"), "absent, not null, when unknown")
        let read = try #require(BackupRecord.parse(older))
        #expect(read.rolesSha256 == nil)
        #expect(read.json == older, "an older record writes back byte for byte (the download's expected sha256 of the record)")

        record.rolesSha256 = String(repeating: "e", count: 64)
        #expect(record.json.contains(#""roles_sha256":"\#(String(repeating: "e", count: 64))""#))
        #expect(BackupRecord.parse(record.json) == record)
    }
}
