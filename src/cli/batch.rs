//! Items through a verb's work in input order, on one thread or several:
//! what `score` and `explain` share.

use std::path::PathBuf;

use rayon::prelude::*;
use satire::io::{Item, ItemReader};
use satire::score::PerThread;

/// Items handed to the working threads at a time, at most.
const BATCH_ITEMS: usize = 4096;
/// Text bytes handed to the working threads at a time, about.
const BATCH_BYTES: usize = 4 << 20;
/// Text bytes in the first batch of a parallel run, about.
const FIRST_BATCH_BYTES: usize = 64 << 10;

/// A verb's work on every item of `paths`: `work` with `workers`, one
/// per thread (as many threads as workers).
pub struct Batches<'a, W, F> {
    pub reader: ItemReader,
    pub paths: &'a [PathBuf],
    pub workers: PerThread<W>,
    pub work: F,
}

impl<W: Send, O: Send, F: Fn(&mut W, Item) -> O + Send + Sync> Batches<'_, W, F> {
    /// Runs the work, and `emit` on each result in input order; `emit`
    /// gets `None` after each batch, to flush what it wrote, so that a
    /// reader downstream sees rows as batches finish. `emit` returning
    /// `Ok(false)` stops the run (`--strict` after an error). Returns
    /// whether it did.
    ///
    /// With one worker, reading, working and writing take turns on this
    /// thread. With more, see [`Batches::in_parallel`].
    pub fn in_order(
        self,
        emit: &mut impl FnMut(Option<O>) -> satire::Result<bool>,
    ) -> anyhow::Result<bool> {
        if self.workers.len() > 1 {
            return self.in_parallel(emit);
        }
        // One lock for the whole run, none per item: the one worker is
        // this thread's.
        let Batches {
            reader,
            paths,
            workers,
            work,
        } = self;
        workers.with(|worker| {
            let mut stopped = false;
            let mut n = 0usize;
            let result = reader.for_each(paths, |item| {
                n += 1;
                if n % BATCH_ITEMS == 0 {
                    emit(None)?;
                }
                if emit(Some(work(worker, item)))? {
                    Ok(())
                } else {
                    stopped = true;
                    Err(satire::Error::Data("stopped".into()))
                }
            });
            match result {
                Err(_) if stopped => Ok(true),
                other => Ok(other.map(|()| false)?),
            }
        })
    }

    /// Three stages, each on its own thread, joined by bounded channels: a
    /// reader thread fills batches, a working thread has a pool of one
    /// thread per worker work through each batch, and this thread emits
    /// the results of each finished batch in input order while the next
    /// batch is worked on. (When writing waited for scoring, the scoring
    /// threads sat idle during every batch's writing: two threads kept
    /// 1.78 cores busy.)
    ///
    /// At most two read batches wait, one is worked on, one finished batch
    /// waits and one is emitted: memory stays bounded whatever the input
    /// size.
    fn in_parallel(
        self,
        emit: &mut impl FnMut(Option<O>) -> satire::Result<bool>,
    ) -> anyhow::Result<bool> {
        let threads = self.workers.len();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()?;
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Item>>(2);
            let read = scope.spawn(move || {
                let (mut batch, mut size) = (Vec::new(), 0usize);
                // The first batches are small, so that work starts soon
                // instead of waiting for 4 MiB to be read; each is twice the
                // size of the one before, up to the full size.
                let mut limit = FIRST_BATCH_BYTES;
                let result = self.reader.for_each(self.paths, |item| {
                    size += item.text.as_ref().map_or(0, |t| t.len());
                    batch.push(item);
                    if batch.len() >= BATCH_ITEMS || size >= limit {
                        size = 0;
                        limit = (limit * 2).min(BATCH_BYTES);
                        // The receiver hangs up only when the work stops early.
                        tx.send(std::mem::take(&mut batch))
                            .map_err(|_| satire::Error::Data("stopped".into()))?;
                    }
                    Ok(())
                });
                if result.is_ok() && !batch.is_empty() {
                    let _ = tx.send(batch);
                }
                result
            });
            let (done_tx, done_rx) = std::sync::mpsc::sync_channel::<Vec<O>>(1);
            let working = scope.spawn(move || {
                for batch in rx.iter() {
                    let done: Vec<O> = pool.install(|| {
                        batch
                            .into_par_iter()
                            .map(|item| self.workers.with(|w| (self.work)(w, item)))
                            .collect()
                    });
                    // The receiver hangs up only when emitting stops early;
                    // dropping `rx` then stops the reader.
                    if done_tx.send(done).is_err() {
                        break;
                    }
                }
            });
            let mut stopped = false;
            // On an error, leaving the loop drops `done_rx`, which stops the
            // other two stages.
            let emitted = (|| {
                for done in done_rx.iter() {
                    for o in done {
                        if !emit(Some(o))? {
                            stopped = true;
                            return Ok(());
                        }
                    }
                    emit(None)?;
                }
                Ok::<(), satire::Error>(())
            })();
            drop(done_rx);
            if working.join().is_err() {
                anyhow::bail!("a working thread panicked");
            }
            let read = read.join();
            emitted?;
            match read {
                Ok(Err(_)) if stopped => Ok(true),
                Ok(result) => Ok(result.map(|()| stopped)?),
                Err(_) => anyhow::bail!("the reader thread panicked"),
            }
        })
    }
}

/// `--threads`: the number asked for, or one per core.
pub fn threads(asked: Option<usize>) -> anyhow::Result<usize> {
    match asked {
        Some(0) => anyhow::bail!("--threads must be at least 1"),
        Some(n) => Ok(n),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}
