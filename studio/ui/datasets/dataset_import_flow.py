"""The import part of the Dataset panel: "New dataset from folder", resume, progress, cancel.

A mixin of `DatasetPanel` (it uses the panel's widgets: `progress_bar`, `progress_label`,
`top_stack`, `import_row`, and its `refresh_datasets`, `_status`, `_update_buttons`). The import
itself runs on an `ImportThread`; starting the dialog already starts the parser processes.
"""

from __future__ import annotations

from studio.data import DatasetError
from studio.data.piece_content import ImportOptions
from studio.data.worker_pool import WorkerPool
from studio.ui.datasets.dataset_import_dialog import NewDatasetDialog
from studio.ui.datasets.dataset_import_worker import WORKER_NICE, ImportThread


class ImportFlow:
    # ---- import -------------------------------------------------------------------------------
    def new_dataset(self) -> None:
        # The parser processes start while the user fills in the dialog (they take a quarter
        # of a second to import their libraries), so the import itself starts at full speed.
        pool = None if self.import_thread is not None else WorkerPool(nice=WORKER_NICE)
        try:
            if pool is not None:
                pool.start_all()
        except DatasetError:
            pool = None
        dialog = NewDatasetDialog(self)
        if dialog.exec() == NewDatasetDialog.DialogCode.Accepted:
            folder, name, options = dialog.values()
            if self.start_import(folder, name, options, pool):
                return
        if pool is not None:
            pool.close(kill=True)

    def resume_import(self) -> None:
        if self.dataset is None or self.dataset.builtin:
            return
        m = self._manifest(self.dataset.name)
        if m is not None:
            self.start_import(m.source, m.name, ImportOptions.from_dict(m.options))

    def start_import(self, folder: str, name: str, options: ImportOptions,
                     pool: WorkerPool | None = None) -> bool:
        if self.import_thread is not None:
            self._status("An import is already running")
            return False
        thread = ImportThread(folder, name, options, self, pool)
        thread.progress.connect(self._import_progress)
        thread.report_ready.connect(self._import_done)
        thread.failed.connect(lambda text: self._show_error("Import failed", text))
        thread.finished.connect(self._import_thread_finished)
        self.import_thread = thread
        self.progress_bar.setRange(0, 0)
        self.progress_label.setText(f"Importing {name}…")
        self.top_stack.setCurrentWidget(self.import_row)
        self._update_buttons()
        thread.start()
        return True

    def cancel_import(self) -> None:
        if self.import_thread is not None:
            self.import_thread.cancel()
            self.progress_label.setText("Cancelling…")

    def _import_progress(self, p) -> None:
        if p.phase == "scanning":
            self.progress_label.setText("Looking for MIDI files…")
            return
        self.progress_bar.setRange(0, max(1, p.total))
        self.progress_bar.setValue(p.done)
        self.progress_label.setText(f"{p.done} of {p.total} files · {p.added} pieces"
                                    + (f" · {p.problems} problems" if p.problems else ""))

    def _import_done(self, report) -> None:
        self._status(report.summary(), 15000)
        self.import_finished.emit(report)
        self.refresh_datasets(select=report.name)

    def _import_thread_finished(self) -> None:
        thread, self.import_thread = self.import_thread, None
        self.top_stack.setCurrentIndex(0)
        if thread is not None:
            thread.deleteLater()
        self._update_buttons()

