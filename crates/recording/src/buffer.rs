//! One side's samples between the flushed horizon and the newest packet.
//!
//! Position 0 of the buffer is the first sample not yet handed out. Each position remembers
//! whether a packet filled it, so a duplicate (or the overlap after a re-anchor) never writes a
//! sample twice: the first packet to reach a position keeps it.

use crate::g711::Codec;

/// What writing one packet into the buffer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    /// At least one sample was new.
    Fresh {
        /// Samples of the packet before the horizon, dropped.
        late: usize,
        /// Samples past the look-ahead limit, dropped.
        beyond: usize,
    },
    /// Every sample the packet could write was already written.
    Duplicate,
    /// The whole packet lies before the flushed horizon.
    Late,
    /// The whole packet lies beyond the look-ahead limit.
    TooFarAhead,
}

#[derive(Debug, Default, Clone)]
pub(crate) struct SideBuffer {
    samples: Vec<i16>,
    filled: Vec<bool>,
    head: usize,
}

impl SideBuffer {
    /// Pending positions currently held (written or gaps).
    fn len(&self) -> usize {
        self.samples.len() - self.head
    }

    /// Decodes `payload` into positions `at..`, relative to the horizon; positions at or past
    /// `limit` are not kept.
    pub(crate) fn write(&mut self, at: i64, codec: Codec, payload: &[u8], limit: usize) -> Written {
        let len = i64::try_from(payload.len()).unwrap_or(i64::MAX);
        let end = at.saturating_add(len);
        if end <= 0 {
            return Written::Late;
        }
        let limit_i = i64::try_from(limit).unwrap_or(i64::MAX);
        if at >= limit_i {
            return Written::TooFarAhead;
        }
        // Both bounds are now within 0..=limit, so the casts are lossless.
        let from = at.max(0) as usize;
        let to = end.min(limit_i) as usize;
        let skip = (from as i64 - at) as usize;
        let late = skip;
        let beyond = payload.len() - skip - (to - from);
        if self.len() < to {
            let grow = to - self.len();
            self.samples.resize(self.samples.len() + grow, 0);
            self.filled.resize(self.filled.len() + grow, false);
        }
        let table = codec.table();
        let base = self.head + from;
        let samples = &mut self.samples[base..base + (to - from)];
        let filled = &mut self.filled[base..base + (to - from)];
        let mut fresh = false;
        for ((s, f), &b) in samples
            .iter_mut()
            .zip(filled.iter_mut())
            .zip(&payload[skip..])
        {
            if !*f {
                *s = table[usize::from(b)];
                *f = true;
                fresh = true;
            }
        }
        if fresh {
            Written::Fresh { late, beyond }
        } else {
            Written::Duplicate
        }
    }

    /// Hands out the next `n` positions: the samples held (silence where nothing was written)
    /// and how many silent positions follow them.
    pub(crate) fn take(&mut self, n: usize) -> (&[i16], usize) {
        let held = self.len().min(n);
        let start = self.head;
        self.head += held;
        let out = &self.samples[start..start + held];
        (out, n - held)
    }

    /// Forgets the samples handed out by `take`, compacting the storage now and then.
    pub(crate) fn compact(&mut self) {
        if self.head == self.samples.len() {
            self.samples.clear();
            self.filled.clear();
            self.head = 0;
        } else if self.head >= 4096 && self.head * 2 >= self.samples.len() {
            self.samples.drain(..self.head);
            self.filled.drain(..self.head);
            self.head = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(b: &mut SideBuffer, n: usize) -> Vec<i16> {
        let (held, silent) = b.take(n);
        let mut v = held.to_vec();
        v.extend(std::iter::repeat_n(0, silent));
        b.compact();
        v
    }

    #[test]
    fn gaps_are_silence_and_packets_land_at_their_offset() {
        let mut b = SideBuffer::default();
        assert_eq!(
            b.write(2, Codec::Pcmu, &[0x80, 0x80], 100),
            Written::Fresh { late: 0, beyond: 0 }
        );
        assert_eq!(taken(&mut b, 6), vec![0, 0, 32124, 32124, 0, 0]);
    }

    #[test]
    fn duplicates_do_not_overwrite_and_are_reported() {
        let mut b = SideBuffer::default();
        b.write(0, Codec::Pcmu, &[0x80; 4], 100);
        assert_eq!(b.write(0, Codec::Pcmu, &[0x00; 4], 100), Written::Duplicate);
        // A partial overlap keeps the first packet's samples and adds the new ones.
        assert_eq!(
            b.write(2, Codec::Pcmu, &[0x00; 4], 100),
            Written::Fresh { late: 0, beyond: 0 }
        );
        assert_eq!(
            taken(&mut b, 6),
            vec![32124, 32124, 32124, 32124, -32124, -32124]
        );
    }

    #[test]
    fn late_and_far_ahead_parts_are_cut() {
        let mut b = SideBuffer::default();
        assert_eq!(b.write(-4, Codec::Pcma, &[0xAA; 4], 10), Written::Late);
        assert_eq!(
            b.write(10, Codec::Pcma, &[0xAA; 4], 10),
            Written::TooFarAhead
        );
        assert_eq!(
            b.write(-2, Codec::Pcma, &[0xAA; 4], 10),
            Written::Fresh { late: 2, beyond: 0 }
        );
        assert_eq!(
            b.write(8, Codec::Pcma, &[0xAA; 4], 10),
            Written::Fresh { late: 0, beyond: 2 }
        );
        let out = taken(&mut b, 10);
        assert_eq!(&out[..2], &[32256, 32256]);
        assert_eq!(&out[2..8], &[0; 6]);
        assert_eq!(&out[8..], &[32256, 32256]);
    }

    #[test]
    fn positions_move_with_what_was_taken() {
        let mut b = SideBuffer::default();
        for round in 0..5000 {
            b.write(0, Codec::Pcmu, &[0x80; 3], 100);
            assert_eq!(taken(&mut b, 2), vec![32124, 32124], "round {round}");
            // The third sample is now at position 0; it is handed out next.
            assert_eq!(taken(&mut b, 1), vec![32124]);
        }
        assert_eq!(taken(&mut b, 3), vec![0, 0, 0]);
    }
}
