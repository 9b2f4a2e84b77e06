import BotOpsKit
import Testing

/// The `-L` list of `restore --tables`, chosen from a real `pg_restore --list --verbose` of the
/// sandbox's ledger (trimmed).
struct TableOfContentsTests {
    static let list = """
        ;
        ; Archive created at 2026-12-04 23:30:00 UTC
        ;
        220; 1259 141400 TABLE public fifo_allocations bot_user
        221; 1259 141405 SEQUENCE public fifo_allocations_id_seq bot_user
        ;\tdepends on: 220
        3455; 0 0 SEQUENCE OWNED BY public fifo_allocations_id_seq bot_user
        ;\tdepends on: 221
        225; 1259 141422 TABLE public strategy_snapshots bot_user
        226; 1259 141429 TABLE public trade_records bot_user
        227; 1259 141442 TABLE public trade_strategy_link bot_user
        3242; 2604 141450 DEFAULT public fifo_allocations id bot_user
        ;\tdepends on: 221 220
        3439; 0 141400 TABLE DATA public fifo_allocations bot_user
        ;\tdepends on: 220
        3445; 0 141429 TABLE DATA public trade_records bot_user
        ;\tdepends on: 226
        3446; 0 141442 TABLE DATA public trade_strategy_link bot_user
        ;\tdepends on: 227
        3458; 0 0 SEQUENCE SET public fifo_allocations_id_seq bot_user
        ;\tdepends on: 221
        3267; 2606 141472 CONSTRAINT public fifo_allocations fifo_allocations_pkey bot_user
        ;\tdepends on: 220
        3280; 2606 141482 CONSTRAINT public trade_records trade_records_pkey bot_user
        ;\tdepends on: 226
        3284; 2606 141484 CONSTRAINT public trade_strategy_link trade_strategy_link_pkey bot_user
        ;\tdepends on: 227
        3282; 1259 141490 INDEX public trade_records_time bot_user
        ;\tdepends on: 226
        3285; 1259 141491 INDEX public trade_strategy_link_time bot_user
        ;\tdepends on: 227
        3289; 2606 141507 FK CONSTRAINT public trade_strategy_link trade_strategy_link_order_id_fkey bot_user
        ;\tdepends on: 3280 227 226
        3290; 2606 141512 FK CONSTRAINT public trade_strategy_link trade_strategy_link_snapshot_id_fkey bot_user
        ;\tdepends on: 225 227 3278
        3500; 0 0 ACL public TABLE trade_strategy_link bot_user
        ;\tdepends on: 227
        """

    let contents = TableOfContents(verboseList: Self.list)

    @Test func aTableComesWithItsKeyIndexesForeignKeysAndGrantsAndNothingOfAnother() throws {
        let selection = try contents.selection(for: [.init(parsing: "trade_strategy_link")])
        #expect(selection.entries.map(\.id) == [227, 3446, 3284, 3285, 3289, 3290, 3500])
        #expect(selection.entries.map(\.kind) == ["TABLE", "TABLE DATA", "CONSTRAINT", "INDEX", "FK CONSTRAINT", "FK CONSTRAINT", "ACL"])
        #expect(selection.list.hasPrefix("227; 1259 141442 TABLE public trade_strategy_link bot_user\n3446; "))
        #expect(selection.references.isEmpty, "its own foreign keys are not another table's")
    }

    @Test func anOwnedSequenceComesWithItsValueAndTheColumnDefault() throws {
        let selection = try contents.selection(for: [.init(parsing: "public.fifo_allocations")])
        #expect(selection.entries.map(\.id) == [220, 221, 3455, 3242, 3439, 3458, 3267])
    }

    @Test func anotherTablesForeignKeyToTheRestoredTableIsNamedForTheMove() throws {
        let selection = try contents.selection(for: [.init(parsing: "trade_records")])
        #expect(selection.entries.map(\.id) == [226, 3445, 3280, 3282, 3289])
        #expect(selection.references == [.init(table: .init(schema: "public", name: "trade_strategy_link"), constraint: "trade_strategy_link_order_id_fkey",
                                               target: .init(schema: "public", name: "trade_records"))])
        // Restored together, the referencing table brings its own foreign key: nothing to move.
        let both = try contents.selection(for: [.init(parsing: "trade_records"), .init(parsing: "trade_strategy_link")])
        #expect(both.references.isEmpty)
    }

    @Test func aTableNotInTheDumpIsNamed() {
        #expect(throws: TableOfContents.SelectionError.notInDump([.init(schema: "public", name: "nope"), .init(schema: "other", name: "trade_records")])) {
            try contents.selection(for: [.init(parsing: "nope"), .init(parsing: "other.trade_records"), .init(parsing: "trade_records")])
        }
    }
}
