#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The running executable's relocation table (`.rela.dyn`), which the dynamic loader reads once,
/// before main, and nothing reads again. In botops's statically linked build it is 1.9 MB (82,000
/// pointers of the Swift runtime and Foundation), and its pages stayed resident for the whole
/// run: 7 % of the peak RSS of `backup --download`. `release()` drops them from this process
/// (MADV_DONTNEED on read-only, file-backed pages: nothing is lost, a later read would fault them
/// back in from the file). Linux only (dyld's fixups on a Mac were not looked at).
public enum RelocationPages {
    /// The whole pages inside the table, when it lies in a segment mapped without write
    /// permission (so no page there can hold data of this process's own); nil when there is none.
    public static func range() -> UnsafeRawBufferPointer? {
        #if os(Linux)
        // getauxval is not in Swift's Glibc module; dlsym finds it in libc.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "getauxval") else { return nil }
        let getauxval = unsafeBitCast(symbol, to: (@convention(c) (UInt) -> UInt).self)
        let headersAddress = getauxval(3 /* AT_PHDR */), count = Int(getauxval(5 /* AT_PHNUM */))
        guard let headers = UnsafeRawPointer(bitPattern: headersAddress), count > 0 else { return nil }
        // Elf64_Phdr: p_type (UInt32) at 0, p_flags (UInt32) at 4, p_vaddr at 16, p_memsz at 40; 56 bytes.
        let segments = (0..<count).map { index in
            let header = headers + index * 56
            return (type: header.load(as: UInt32.self), flags: header.load(fromByteOffset: 4, as: UInt32.self),
                    address: header.load(fromByteOffset: 16, as: UInt.self), size: header.load(fromByteOffset: 40, as: UInt.self))
        }
        let pt_load: UInt32 = 1, pt_dynamic: UInt32 = 2, pt_phdr: UInt32 = 6, pf_w: UInt32 = 2
        guard let program = segments.first(where: { $0.type == pt_phdr }), let dynamic = segments.first(where: { $0.type == pt_dynamic }) else { return nil }
        let base = headersAddress &- program.address
        // Elf64_Dyn: d_tag (Int64), d_val (UInt64). DT_RELA = 7, DT_RELASZ = 8.
        guard var entry = UnsafeRawPointer(bitPattern: base &+ dynamic.address) else { return nil }
        var table: UInt = 0, size: UInt = 0
        while entry.load(as: Int64.self) != 0 {
            switch entry.load(as: Int64.self) {
            case 7: table = entry.load(fromByteOffset: 8, as: UInt.self)
            case 8: size = entry.load(fromByteOffset: 8, as: UInt.self)
            default: break
            }
            entry += 16
        }
        // glibc rewrites DT_RELA to the table's address when it loads the program; an offset
        // from the base otherwise.
        if table < base { table &+= base }
        let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
        let start = (table + page - 1) / page * page, end = (table + size) / page * page
        guard size > 0, end > start else { return nil }
        let readOnly = segments.contains { $0.type == pt_load && $0.flags & pf_w == 0 && base &+ $0.address <= table && table + size <= base &+ $0.address &+ $0.size }
        guard readOnly, let pointer = UnsafeRawPointer(bitPattern: start) else { return nil }
        return UnsafeRawBufferPointer(start: pointer, count: Int(end - start))
        #else
        return nil
        #endif
    }

    /// Drops the table's pages from this process's resident memory; returns the bytes dropped.
    @discardableResult
    public static func release() -> Int {
        #if os(Linux)
        guard let pages = range(), madvise(UnsafeMutableRawPointer(mutating: pages.baseAddress), pages.count, MADV_DONTNEED) == 0 else { return 0 }
        return pages.count
        #else
        return 0
        #endif
    }
}
