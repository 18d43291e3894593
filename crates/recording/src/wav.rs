//! 16-bit PCM WAV at 8 kHz: an incremental writer and the repair of a header a crash left open.
//!
//! The writer puts a 44-byte canonical header first with zero sizes, appends samples as they
//! come, and writes the real sizes on [`WavWriter::update_header`] and [`WavWriter::finish`]. A
//! file whose process died in between has a valid format but wrong sizes; [`repair_wav`] sets
//! them from the file's length.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::placement::SAMPLE_RATE;

/// Bytes of the canonical header before the first sample.
pub const HEADER_LEN: u64 = 44;

/// Largest data chunk a WAV can describe (its size field is 32 bits, and so is RIFF's).
const MAX_DATA: u64 = u32::MAX as u64 - (HEADER_LEN - 8);

/// Why writing a WAV failed.
#[derive(Debug, thiserror::Error)]
pub enum WavError {
    /// The underlying file or stream failed (disk full, I/O error).
    #[error("writing the WAV file failed: {0}")]
    Io(#[from] io::Error),
    /// The data would outgrow the 4 GiB a WAV header can describe.
    #[error("the recording is longer than a WAV file can hold")]
    TooLong,
    /// Samples were written that do not make whole frames.
    #[error("{0} samples do not make whole frames of {1} channels")]
    PartialFrame(usize, u16),
}

/// Writes a 16-bit PCM WAV at [`SAMPLE_RATE`], frame by frame.
#[derive(Debug)]
pub struct WavWriter<W: Write + Seek> {
    inner: W,
    channels: u16,
    data_bytes: u64,
    scratch: Vec<u8>,
}

impl WavWriter<BufWriter<File>> {
    /// Creates (or truncates) `path` and writes the header.
    pub fn create(path: &Path, channels: u16) -> Result<Self, WavError> {
        let file = File::create(path)?;
        WavWriter::new(BufWriter::with_capacity(64 * 1024, file), channels)
    }
}

impl<W: Write + Seek> WavWriter<W> {
    /// Starts a WAV of `channels` channels on `inner` (at its current position 0).
    pub fn new(mut inner: W, channels: u16) -> Result<Self, WavError> {
        inner.write_all(&header(channels, 0))?;
        Ok(WavWriter {
            inner,
            channels: channels.max(1),
            data_bytes: 0,
            scratch: Vec::new(),
        })
    }

    /// Appends stereo frames (`[left, right]`); the writer must have 2 channels.
    pub fn write_stereo(&mut self, frames: &[[i16; 2]]) -> Result<(), WavError> {
        if self.channels != 2 {
            return Err(WavError::PartialFrame(frames.len() * 2, self.channels));
        }
        self.scratch.clear();
        self.scratch.reserve(frames.len() * 4);
        for [l, r] in frames {
            self.scratch.extend_from_slice(&l.to_le_bytes());
            self.scratch.extend_from_slice(&r.to_le_bytes());
        }
        self.append_scratch()
    }

    /// Appends interleaved samples, a whole number of frames.
    pub fn write_samples(&mut self, samples: &[i16]) -> Result<(), WavError> {
        if !samples.len().is_multiple_of(usize::from(self.channels)) {
            return Err(WavError::PartialFrame(samples.len(), self.channels));
        }
        self.scratch.clear();
        self.scratch.reserve(samples.len() * 2);
        for s in samples {
            self.scratch.extend_from_slice(&s.to_le_bytes());
        }
        self.append_scratch()
    }

    fn append_scratch(&mut self) -> Result<(), WavError> {
        let len = self.scratch.len() as u64;
        if self.data_bytes + len > MAX_DATA {
            return Err(WavError::TooLong);
        }
        self.inner.write_all(&self.scratch)?;
        self.data_bytes += len;
        Ok(())
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.data_bytes / (2 * u64::from(self.channels))
    }

    /// Writes the current sizes into the header (so a crash loses little), then returns to the
    /// end.
    pub fn update_header(&mut self) -> Result<(), WavError> {
        // data_bytes never exceeds MAX_DATA, so both sizes fit in 32 bits.
        let data = self.data_bytes as u32;
        self.inner.seek(SeekFrom::Start(4))?;
        self.inner.write_all(&(data + 36).to_le_bytes())?;
        self.inner.seek(SeekFrom::Start(40))?;
        self.inner.write_all(&data.to_le_bytes())?;
        self.inner.seek(SeekFrom::End(0))?;
        self.inner.flush()?;
        Ok(())
    }

    /// Writes the final sizes and flushes; returns the underlying writer.
    pub fn finish(mut self) -> Result<W, WavError> {
        self.update_header()?;
        Ok(self.inner)
    }
}

/// The canonical 44-byte header of a 16-bit PCM WAV at [`SAMPLE_RATE`].
fn header(channels: u16, data_bytes: u32) -> [u8; 44] {
    let channels = channels.max(1);
    let block_align = channels * 2;
    let byte_rate = SAMPLE_RATE * u32::from(block_align);
    let mut h = [0u8; 44];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&data_bytes.saturating_add(36).to_le_bytes());
    h[8..12].copy_from_slice(b"WAVE");
    h[12..16].copy_from_slice(b"fmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes()); // PCM
    h[22..24].copy_from_slice(&channels.to_le_bytes());
    h[24..28].copy_from_slice(&SAMPLE_RATE.to_le_bytes());
    h[28..32].copy_from_slice(&byte_rate.to_le_bytes());
    h[32..34].copy_from_slice(&block_align.to_le_bytes());
    h[34..36].copy_from_slice(&16u16.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data_bytes.to_le_bytes());
    h
}

/// Why a WAV could not be repaired.
#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    /// Reading or writing the file failed.
    #[error("repairing the WAV file failed: {0}")]
    Io(#[from] io::Error),
    /// The file does not start with a RIFF/WAVE header.
    #[error("not a WAV file")]
    NotWav,
    /// The file ends before its `fmt ` and `data` chunk headers (nothing to keep).
    #[error("the file ends inside its header")]
    HeaderIncomplete,
    /// The `fmt ` chunk is not one this repair understands.
    #[error("unsupported format chunk")]
    BadFormat,
}

/// What [`repair_wav`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepairOutcome {
    /// The header already described the file.
    Intact,
    /// The sizes were rewritten.
    Repaired {
        /// Bytes of audio the data chunk now holds.
        data_bytes: u32,
        /// Bytes cut from the end (an incomplete last frame, or beyond 4 GiB).
        truncated_bytes: u64,
    },
}

/// Sets the RIFF and data sizes of the WAV at `path` from its length, cutting an incomplete
/// last frame; a file whose header already fits is left alone.
pub fn repair_wav(path: &Path) -> Result<RepairOutcome, RepairError> {
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    let len = file.metadata()?.len();
    let mut riff = [0u8; 12];
    read_header_bytes(&mut file, &mut riff)?;
    if &riff[0..4] != b"RIFF" || &riff[8..12] != b"WAVE" {
        return Err(RepairError::NotWav);
    }
    let riff_size = u64::from(le32(&riff[4..8]));
    let mut pos = 12u64;
    let mut block_align = None;
    let (data_at, declared) = loop {
        let mut chunk = [0u8; 8];
        file.seek(SeekFrom::Start(pos))?;
        read_header_bytes(&mut file, &mut chunk)?;
        let size = u64::from(le32(&chunk[4..8]));
        let body = pos + 8;
        match &chunk[0..4] {
            b"fmt " => {
                if size < 16 {
                    return Err(RepairError::BadFormat);
                }
                let mut fmt = [0u8; 16];
                read_header_bytes(&mut file, &mut fmt)?;
                let align = u16::from_le_bytes([fmt[12], fmt[13]]);
                if align == 0 {
                    return Err(RepairError::BadFormat);
                }
                block_align = Some(u64::from(align));
            }
            b"data" => break (body, size),
            _ => {}
        }
        // Chunks are padded to an even length.
        pos = body + size + (size & 1);
        if pos >= len {
            return Err(RepairError::HeaderIncomplete);
        }
    };
    let align = block_align.ok_or(RepairError::BadFormat)?;
    let available = len.saturating_sub(data_at);
    if declared <= available && riff_size == len - 8 && declared.is_multiple_of(align) {
        return Ok(RepairOutcome::Intact);
    }
    let max = (u64::from(u32::MAX) - (data_at - 8)) / align * align;
    let data = (available - available % align).min(max);
    let new_len = data_at + data;
    file.set_len(new_len)?;
    // Both fit: `data` is at most `max`, chosen so that the RIFF size fits in 32 bits too.
    let data32 = data as u32;
    let riff32 = (new_len - 8) as u32;
    file.seek(SeekFrom::Start(4))?;
    file.write_all(&riff32.to_le_bytes())?;
    file.seek(SeekFrom::Start(data_at - 4))?;
    file.write_all(&data32.to_le_bytes())?;
    file.sync_all()?;
    Ok(RepairOutcome::Repaired {
        data_bytes: data32,
        truncated_bytes: len - new_len,
    })
}

fn read_header_bytes(file: &mut File, buf: &mut [u8]) -> Result<(), RepairError> {
    file.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => RepairError::HeaderIncomplete,
        _ => RepairError::Io(e),
    })
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn frames(n: usize) -> Vec<[i16; 2]> {
        (0..n).map(|i| [i as i16, -(i as i16)]).collect()
    }

    fn read_back(path: &Path) -> (hound::WavSpec, Vec<i16>) {
        let reader = hound::WavReader::open(path).expect("hound opens the file");
        let spec = reader.spec();
        let samples = reader
            .into_samples::<i16>()
            .collect::<Result<Vec<_>, _>>()
            .expect("samples read");
        (spec, samples)
    }

    #[test]
    fn written_incrementally_it_reads_back_as_stereo_8khz_16_bit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.wav");
        let mut w = WavWriter::create(&path, 2).expect("create");
        w.write_stereo(&frames(100)).expect("write");
        w.update_header().expect("header");
        w.write_stereo(&frames(50)).expect("write");
        assert_eq!(w.frames(), 150);
        w.finish().expect("finish");
        let (spec, samples) = read_back(&path);
        assert_eq!(
            (spec.channels, spec.sample_rate, spec.bits_per_sample),
            (2, 8000, 16)
        );
        assert_eq!(spec.sample_format, hound::SampleFormat::Int);
        assert_eq!(samples.len(), 300);
        assert_eq!(&samples[198..202], &[99, -99, 0, 0]);
        assert_eq!(std::fs::metadata(&path).expect("meta").len(), 44 + 600);
    }

    #[test]
    fn mono_writer_and_partial_frames() {
        let mut w = WavWriter::new(Cursor::new(Vec::new()), 1).expect("new");
        w.write_samples(&[1, 2, 3]).expect("write");
        assert!(matches!(
            w.write_stereo(&frames(1)),
            Err(WavError::PartialFrame(2, 1))
        ));
        let bytes = w.finish().expect("finish").into_inner();
        assert_eq!(bytes.len(), 50);
        assert_eq!(&bytes[40..44], &6u32.to_le_bytes());
        let mut stereo = WavWriter::new(Cursor::new(Vec::new()), 2).expect("new");
        assert!(matches!(
            stereo.write_samples(&[1, 2, 3]),
            Err(WavError::PartialFrame(3, 2))
        ));
    }

    /// A disk that fills up after `room` bytes.
    struct Full {
        inner: Cursor<Vec<u8>>,
        room: usize,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.inner.get_ref().len() + buf.len() > self.room {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "no space left"));
            }
            self.inner.write(buf)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Seek for Full {
        fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
            self.inner.seek(to)
        }
    }

    #[test]
    fn a_full_disk_is_an_error_not_a_panic() {
        let full = Full {
            inner: Cursor::new(Vec::new()),
            room: 100,
        };
        let mut w = WavWriter::new(full, 2).expect("the header fits");
        w.write_stereo(&frames(10)).expect("40 bytes fit");
        let err = w.write_stereo(&frames(10)).expect_err("the disk is full");
        assert!(matches!(err, WavError::Io(ref e) if e.kind() == io::ErrorKind::StorageFull));
        assert_eq!(w.frames(), 10);
    }

    /// A file as a crash leaves it: header with zero sizes (or stale ones), then `bytes` of audio.
    fn crashed(path: &Path, frames_written: usize, header_at: Option<usize>, cut: u64) {
        let mut w = WavWriter::create(path, 2).expect("create");
        let all = frames(frames_written);
        match header_at {
            Some(at) => {
                w.write_stereo(&all[..at]).expect("write");
                w.update_header().expect("header");
                w.write_stereo(&all[at..]).expect("write");
            }
            None => w.write_stereo(&all).expect("write"),
        }
        // Dropped without finish: the BufWriter flushes, the header keeps its old sizes.
        drop(w);
        let f = OpenOptions::new().write(true).open(path).expect("open");
        let len = f.metadata().expect("meta").len();
        f.set_len(len - cut).expect("truncate");
    }

    #[test]
    fn a_header_left_at_zero_is_repaired_from_the_length() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("crash.wav");
        crashed(&path, 1000, None, 0);
        assert_eq!(
            repair_wav(&path).expect("repair"),
            RepairOutcome::Repaired {
                data_bytes: 4000,
                truncated_bytes: 0
            }
        );
        let (spec, samples) = read_back(&path);
        assert_eq!(spec.channels, 2);
        assert_eq!(samples.len(), 2000);
        assert_eq!(&samples[1998..], &[999, -999]);
        // A second pass finds nothing to do.
        assert_eq!(repair_wav(&path).expect("repair"), RepairOutcome::Intact);
    }

    #[test]
    fn a_stale_header_and_a_torn_last_frame_are_repaired() {
        let dir = tempfile::tempdir().expect("tempdir");
        for cut in [1u64, 2, 3, 5, 4001] {
            let path = dir.path().join(format!("torn{cut}.wav"));
            crashed(&path, 2000, Some(500), cut);
            let data = 8000 - cut;
            let whole = data - data % 4;
            assert_eq!(
                repair_wav(&path).expect("repair"),
                RepairOutcome::Repaired {
                    data_bytes: whole as u32,
                    truncated_bytes: data - whole
                },
                "cut {cut}"
            );
            let (_, samples) = read_back(&path);
            assert_eq!(samples.len() as u64, whole / 2, "cut {cut}");
            let last = (whole / 4 - 1) as i16;
            assert_eq!(&samples[samples.len() - 2..], &[last, -last], "cut {cut}");
        }
    }

    #[test]
    fn a_finished_file_is_intact() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ok.wav");
        let mut w = WavWriter::create(&path, 2).expect("create");
        w.write_stereo(&frames(10)).expect("write");
        w.finish().expect("finish");
        let before = std::fs::read(&path).expect("read");
        assert_eq!(repair_wav(&path).expect("repair"), RepairOutcome::Intact);
        assert_eq!(std::fs::read(&path).expect("read"), before);
    }

    #[test]
    fn files_cut_inside_the_header_or_not_wav_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("short.wav");
        let full = header(2, 0);
        for cut_at in [0usize, 4, 11, 12, 20, 36, 43] {
            std::fs::write(&path, &full[..cut_at]).expect("write");
            assert!(
                matches!(repair_wav(&path), Err(RepairError::HeaderIncomplete)),
                "cut at {cut_at}"
            );
        }
        // A header with no audio yet is a valid, empty recording.
        std::fs::write(&path, full).expect("write");
        assert_eq!(repair_wav(&path).expect("repair"), RepairOutcome::Intact);
        std::fs::write(&path, b"RIFX\0\0\0\0WAVEfmt ").expect("write");
        assert!(matches!(repair_wav(&path), Err(RepairError::NotWav)));
        assert!(matches!(
            repair_wav(&dir.path().join("missing.wav")),
            Err(RepairError::Io(_))
        ));
    }
}
