import Basics
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// In this test process (a position-independent executable like botops): the range found is the
/// whole pages of its `.rela.dyn` as readelf reads the file, resident before `release()` (the
/// loader read them before main) and not after it.
struct RelocationPagesTests {
    #if os(Linux)
    /// How many of `pages` this process has resident: /proc/self/pagemap, one UInt64 per page,
    /// bit 63 set when present.
    static func resident(_ pages: UnsafeRawBufferPointer) throws -> Int {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/pagemap"))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(UInt(bitPattern: pages.baseAddress) / UInt(page) * 8))
        let entries = try handle.read(upToCount: pages.count / page * 8) ?? Data()
        return stride(from: 0, to: entries.count, by: 8).filter { entries[entries.startIndex + $0 + 7] & 0x80 != 0 }.count
    }

    /// `.rela.dyn`'s address (in the file, before the load base is added) and size, by readelf.
    static func tableInFile() throws -> (address: UInt, size: UInt) {
        let readelf = Process()
        readelf.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        readelf.arguments = ["readelf", "-SW", "/proc/\(getpid())/exe"]  // this process's executable, not readelf's
        let output = Pipe()
        readelf.standardOutput = output
        try readelf.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        readelf.waitUntilExit()
        // "  [10] .rela.dyn  RELA  0000000000086990 086990 1ea2c0 18   A  4   0  8"
        let fields = try #require(text.split(separator: "\n").first { $0.contains(" .rela.dyn ") }).split(separator: " ").map(String.init)
        let name = try #require(fields.firstIndex(of: ".rela.dyn"))
        return (try #require(UInt(fields[name + 2], radix: 16)), try #require(UInt(fields[name + 4], radix: 16)))
    }

    @Test func theRelocationTablesPagesAreFoundAndLeaveResidentMemory() throws {
        let pages = try #require(RelocationPages.range(), "a PIE has a relocation table")
        let file = try Self.tableInFile()
        let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
        let start = UInt(bitPattern: pages.baseAddress), end = start + UInt(pages.count)
        // The load base is page-aligned: the range starts at the table's first whole page.
        let base = start - (file.address + page - 1) / page * page
        #expect(end == (base + file.address + file.size) / page * page, "the range is the table's whole pages")
        #expect(try Self.resident(pages) > 0, "the loader's reads left the table resident")
        #expect(RelocationPages.release() == pages.count)
        #expect(try Self.resident(pages) == 0, "released")
    }
    #endif
}
