//! The rules one by one on generated noise bursts and tones, and a property over any input.

use super::*;
use proptest::prelude::*;

/// Builds 8 kHz test audio segment by segment.
struct Audio {
    samples: Vec<i16>,
    seed: u32,
}

impl Audio {
    fn new() -> Audio {
        Audio {
            samples: Vec::new(),
            seed: 0x1234_5678,
        }
    }

    fn silence(mut self, ms: u32) -> Audio {
        self.samples
            .extend(std::iter::repeat_n(0, (ms * 8) as usize));
        self
    }

    /// Uniform noise of this peak amplitude: speech-like energy, nothing tonal.
    fn noise(mut self, ms: u32, peak: i32) -> Audio {
        for _ in 0..ms * 8 {
            self.seed = self
                .seed
                .wrapping_mul(1_664_525)
                .wrapping_add(1_013_904_223);
            let unit = (self.seed >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0;
            self.samples.push((unit * peak as f32) as i16);
        }
        self
    }

    fn tone(mut self, ms: u32, frequency: f32, amplitude: f32) -> Audio {
        let start = self.samples.len();
        for n in 0..(ms * 8) as usize {
            let t = (start + n) as f32 / SAMPLE_RATE as f32;
            self.samples
                .push((amplitude * (2.0 * std::f32::consts::PI * frequency * t).sin()) as i16);
        }
        self
    }

    /// Adds steady noise under everything so far.
    fn with_floor(mut self, peak: i32) -> Audio {
        let len = self.samples.len() as u32 / 8;
        let floor = Audio::new().noise(len, peak).samples;
        for (s, n) in self.samples.iter_mut().zip(floor) {
            *s = s.saturating_add(n);
        }
        self
    }
}

/// Feeds the audio frame by frame; returns the decision and the detector (fed to the end).
fn run(config: &AmdConfig, audio: &Audio) -> (Option<AmdDecision>, AmdDetector) {
    let mut detector = AmdDetector::new(config);
    let mut decision = None;
    for chunk in audio.samples.chunks_exact(FRAME_SAMPLES) {
        let mut frame = [0i16; FRAME_SAMPLES];
        frame.copy_from_slice(chunk);
        if let Some(d) = detector.push_frame(&frame) {
            assert!(decision.is_none(), "decided twice: {decision:?} then {d:?}");
            decision = Some(d);
        }
    }
    (decision, detector)
}

fn decide(audio: Audio) -> AmdDecision {
    run(&AmdConfig::default(), &audio).0.expect("decided")
}

#[test]
fn silence_for_the_initial_silence_is_a_machine() {
    let d = decide(Audio::new().silence(6000));
    assert_eq!(
        (d.verdict, d.cause, d.at_ms),
        (AmdVerdict::Machine, AmdCause::InitialSilence, 2500)
    );
    assert_eq!(d.measures.words, 0);
}

#[test]
fn a_short_hello_then_silence_is_a_person() {
    let d = decide(Audio::new().silence(300).noise(400, 8000).silence(3000));
    assert_eq!(
        (d.verdict, d.cause),
        (AmdVerdict::Human, AmdCause::HumanPause)
    );
    // 300 ms before, 400 ms of speech, the 60 ms hangover, then 800 ms of silence.
    assert_eq!(d.at_ms, 300 + 400 + 60 + 800);
    assert_eq!(d.measures.words, 1);
    assert_eq!(d.measures.initial_silence_ms, 300);
    assert_eq!(d.measures.voice_ms, 460);
}

#[test]
fn a_long_greeting_is_a_machine_when_its_speech_reaches_the_limit() {
    let d = decide(Audio::new().silence(200).noise(2500, 8000).silence(2000));
    assert_eq!(
        (d.verdict, d.cause),
        (AmdVerdict::Machine, AmdCause::LongGreeting)
    );
    assert_eq!(d.at_ms, 200 + 1500);
}

#[test]
fn a_greeting_with_pauses_shorter_than_the_after_greeting_silence_is_still_one_greeting() {
    let d = decide(
        Audio::new()
            .silence(300)
            .noise(900, 8000)
            .silence(600)
            .noise(900, 8000)
            .silence(2000),
    );
    assert_eq!(d.verdict, AmdVerdict::Machine);
    assert_eq!(d.cause, AmdCause::LongGreeting);
}

#[test]
fn a_fourth_word_is_a_machine() {
    let mut audio = Audio::new().silence(200);
    for _ in 0..5 {
        audio = audio.noise(200, 8000).silence(140);
    }
    let d = decide(audio.silence(2000));
    assert_eq!(
        (d.verdict, d.cause),
        (AmdVerdict::Machine, AmdCause::MaxWords)
    );
    // The fourth word counts once it has lasted the minimum word length.
    assert_eq!(d.at_ms, 200 + 3 * 340 + 100);
    assert_eq!(d.measures.words, 4);
}

#[test]
fn three_words_then_silence_is_a_person() {
    let mut audio = Audio::new().silence(200);
    for _ in 0..3 {
        audio = audio.noise(200, 8000).silence(150);
    }
    let d = decide(audio.silence(2000));
    assert_eq!(
        (d.verdict, d.cause),
        (AmdVerdict::Human, AmdCause::HumanPause)
    );
    assert_eq!(d.measures.words, 3);
}

#[test]
fn gaps_shorter_than_the_hangover_do_not_split_a_word() {
    let d = decide(
        Audio::new()
            .silence(300)
            .noise(200, 8000)
            .silence(40)
            .noise(200, 8000)
            .silence(40)
            .noise(200, 8000)
            .silence(3000),
    );
    assert_eq!(
        (d.verdict, d.cause),
        (AmdVerdict::Human, AmdCause::HumanPause)
    );
    assert_eq!(d.measures.words, 1);
    assert_eq!(d.measures.longest_word_ms, 680 + 60);
}

#[test]
fn one_word_longer_than_a_word_can_be_is_a_machine() {
    let config = AmdConfig {
        maximum_word_length_ms: 1000,
        greeting_ms: 3000,
        ..AmdConfig::default()
    };
    let d = run(
        &config,
        &Audio::new().silence(200).noise(2000, 8000).silence(1000),
    )
    .0
    .expect("decided");
    assert_eq!(
        (d.verdict, d.cause),
        (AmdVerdict::Machine, AmdCause::MaxWordLength)
    );
    assert_eq!(d.at_ms, 1200);
}

#[test]
fn nothing_decisive_within_the_analysis_time_is_not_sure() {
    let config = AmdConfig {
        maximum_number_of_words: 100,
        ..AmdConfig::default()
    };
    let mut audio = Audio::new().silence(300);
    for _ in 0..10 {
        audio = audio.noise(120, 8000).silence(580);
    }
    let d = run(&config, &audio).0.expect("decided");
    assert_eq!(
        (d.verdict, d.cause, d.at_ms),
        (AmdVerdict::NotSure, AmdCause::Timeout, 5000)
    );
    assert!(d.measures.voice_ms < 1500);
}

#[test]
fn steady_line_noise_is_silence_and_speech_over_it_is_heard() {
    // Noise well above the fixed threshold (mean magnitude about 750) from the first sample.
    let d = decide(Audio::new().silence(6000).with_floor(1500));
    assert_eq!(
        (d.verdict, d.cause),
        (AmdVerdict::Machine, AmdCause::InitialSilence)
    );
    let d = decide(
        Audio::new()
            .silence(500)
            .noise(400, 9000)
            .silence(3000)
            .with_floor(1500),
    );
    assert_eq!(
        (d.verdict, d.cause),
        (AmdVerdict::Human, AmdCause::HumanPause)
    );
    assert_eq!(d.measures.initial_silence_ms, 500);
}

#[test]
fn without_the_margin_over_the_floor_that_noise_reads_as_a_greeting() {
    // A margin of 0 dB leaves the fixed threshold and the bare floor: every noise frame a little
    // louder than the quietest one is speech, so the line noise becomes an endless greeting.
    let config = AmdConfig {
        noise_margin_db: 0.0,
        ..AmdConfig::default()
    };
    let d = run(&config, &Audio::new().silence(6000).with_floor(1500))
        .0
        .expect("decided");
    assert_eq!(d.verdict, AmdVerdict::Machine);
    assert_ne!(d.cause, AmdCause::InitialSilence);
    assert!(d.measures.voice_ms > 0);
}

#[test]
fn a_beep_before_any_rule_is_a_machine() {
    let (d, detector) = run(
        &AmdConfig::default(),
        &Audio::new()
            .silence(500)
            .tone(400, 1000.0, 6000.0)
            .silence(1000),
    );
    let d = d.expect("decided");
    assert_eq!((d.verdict, d.cause), (AmdVerdict::Machine, AmdCause::Beep));
    assert_eq!(d.at_ms, 500 + 140);
    let beep = detector.beep().expect("beep");
    assert_eq!(
        (beep.start_ms, beep.end_ms, beep.frequency_hz),
        (500, Some(900), 1000)
    );
}

#[test]
fn the_beep_after_a_machine_verdict_is_still_found() {
    let (d, detector) = run(
        &AmdConfig::default(),
        &Audio::new()
            .silence(300)
            .noise(3000, 8000)
            .silence(400)
            .tone(500, 850.0, 5000.0)
            .silence(500)
            .with_floor(200),
    );
    let d = d.expect("decided");
    assert_eq!(
        (d.verdict, d.cause, d.at_ms),
        (AmdVerdict::Machine, AmdCause::LongGreeting, 1800)
    );
    let beep = detector.beep().expect("beep");
    assert_eq!(beep.frequency_hz, 850);
    assert_eq!(beep.start_ms, 3700);
    assert_eq!(beep.end_ms, Some(4200));
}

#[test]
fn a_short_tone_or_noise_is_no_beep() {
    let (_, detector) = run(
        &AmdConfig::default(),
        &Audio::new()
            .silence(500)
            .tone(100, 1000.0, 6000.0)
            .silence(300)
            .noise(2000, 8000),
    );
    assert_eq!(detector.beep(), None);
}

#[test]
fn frames_after_the_verdict_return_nothing_and_keep_it() {
    let mut detector = AmdDetector::new(&AmdConfig::default());
    let frame = [0i16; FRAME_SAMPLES];
    let mut decided = 0;
    for _ in 0..400 {
        decided += u32::from(detector.push_frame(&frame).is_some());
    }
    assert_eq!(decided, 1);
    assert_eq!(detector.decision().map(|d| d.at_ms), Some(2500));
    assert_eq!(detector.consumed_ms(), 8000);
}

#[test]
fn packets_of_any_size_decide_as_frames_do() {
    let audio = Audio::new().silence(300).noise(400, 8000).silence(3000);
    let (by_frame, _) = run(&AmdConfig::default(), &audio);
    for packet in [240, 80, 161, 1000] {
        let mut detector = AmdDetector::new(&AmdConfig::default());
        let decisions: Vec<AmdDecision> = audio
            .samples
            .chunks(packet)
            .filter_map(|chunk| detector.push_samples(chunk))
            .collect();
        assert_eq!(decisions.len(), 1, "{packet}-sample packets");
        assert_eq!(
            decisions.first().copied(),
            by_frame,
            "{packet}-sample packets"
        );
    }
}

#[test]
fn a_persons_greeting_ends_with_its_last_loud_frame_before_the_deciding_silence() {
    let d = decide(Audio::new().silence(300).noise(400, 8000).silence(3000));
    assert_eq!(d.verdict, AmdVerdict::Human);
    // "Hello?" from 300 to 700 ms; the hangover and the 800 ms of silence come after it.
    assert_eq!(d.greeting_end_ms, Some(700));
    assert_eq!(d.since_greeting_end_ms(), Some(60 + 800));
    // A later, longer greeting ends later; the verdict still comes 860 ms after its end.
    let d = decide(Audio::new().silence(1000).noise(620, 8000).silence(3000));
    assert_eq!(d.verdict, AmdVerdict::Human);
    assert_eq!(d.greeting_end_ms, Some(1620));
    assert_eq!(d.at_ms, 1620 + 60 + 800);
}

#[test]
fn a_greeting_of_several_words_ends_after_its_last_word() {
    let d = decide(
        Audio::new()
            .silence(300)
            .noise(300, 8000)
            .silence(200)
            .noise(240, 8000)
            .silence(3000),
    );
    assert_eq!(
        (d.verdict, d.cause, d.measures.words),
        (AmdVerdict::Human, AmdCause::HumanPause, 2)
    );
    assert_eq!(d.greeting_end_ms, Some(300 + 300 + 200 + 240));
}

#[test]
fn the_greeting_end_over_line_noise_is_where_the_speech_stopped() {
    let d = decide(
        Audio::new()
            .silence(500)
            .noise(400, 9000)
            .silence(3000)
            .with_floor(1500),
    );
    assert_eq!(d.verdict, AmdVerdict::Human);
    assert_eq!(d.greeting_end_ms, Some(900));
}

#[test]
fn no_greeting_end_without_words_or_while_speech_goes_on() {
    // Nothing said.
    let d = decide(Audio::new().silence(6000));
    assert_eq!(d.cause, AmdCause::InitialSilence);
    assert_eq!((d.greeting_end_ms, d.since_greeting_end_ms()), (None, None));
    // Decided in the middle of a long greeting.
    let d = decide(Audio::new().silence(200).noise(2500, 8000).silence(2000));
    assert_eq!(d.cause, AmdCause::LongGreeting);
    assert_eq!(d.greeting_end_ms, None);
}

#[test]
fn an_undecided_answer_in_the_silence_after_words_has_the_last_words_end() {
    let config = AmdConfig {
        maximum_number_of_words: 100,
        ..AmdConfig::default()
    };
    let mut audio = Audio::new().silence(300);
    for _ in 0..10 {
        audio = audio.noise(120, 8000).silence(580);
    }
    let d = run(&config, &audio).0.expect("decided");
    assert_eq!(d.verdict, AmdVerdict::NotSure);
    // The seventh burst ran from 4,500 to 4,620 ms; the verdict came at 5,000 ms.
    assert_eq!(d.greeting_end_ms, Some(4620));
}

#[test]
fn packets_of_any_size_find_the_same_greeting_end() {
    let audio = Audio::new().silence(700).noise(500, 8000).silence(3000);
    for packet in [240, 80, 161] {
        let mut detector = AmdDetector::new(&AmdConfig::default());
        let decision = audio
            .samples
            .chunks(packet)
            .find_map(|chunk| detector.push_samples(chunk));
        assert_eq!(
            decision.and_then(|d| d.greeting_end_ms),
            Some(1200),
            "{packet}-sample packets"
        );
    }
}

/// A segment of arbitrary test audio.
#[derive(Debug, Clone)]
enum Segment {
    Silence(u32),
    Noise(u32, i32),
    Tone(u32, f32, f32),
    Constant(u32, i16),
    Raw(Vec<i16>),
}

fn segment() -> impl Strategy<Value = Segment> {
    prop_oneof![
        (0u32..1500).prop_map(Segment::Silence),
        (0u32..1500, 0i32..40000).prop_map(|(ms, peak)| Segment::Noise(ms, peak)),
        (0u32..800, 50f32..3950.0, 0f32..40000.0).prop_map(|(ms, f, a)| Segment::Tone(ms, f, a)),
        (0u32..500, any::<i16>()).prop_map(|(ms, v)| Segment::Constant(ms, v)),
        proptest::collection::vec(any::<i16>(), 0..2000).prop_map(Segment::Raw),
    ]
}

fn config() -> impl Strategy<Value = AmdConfig> {
    (
        (0u32..8000, 0u32..8000, 0u32..8000, 0u32..8000),
        (0u32..500, 0u32..500, 0u32..10, 0u32..8000),
        (any::<u16>(), -10f32..50.0, 0u32..400),
        (0u32..5000, 0u32..5000, 0u32..1000, 0f32..1.5),
    )
        .prop_map(
            |(
                (initial, greeting, after, total),
                (min_word, between, words, max_word),
                (threshold, margin, hangover),
                (min_hz, max_hz, beep_ms, purity),
            )| AmdConfig {
                initial_silence_ms: initial,
                greeting_ms: greeting,
                after_greeting_silence_ms: after,
                total_analysis_time_ms: total,
                min_word_length_ms: min_word,
                between_words_silence_ms: between,
                maximum_number_of_words: words,
                maximum_word_length_ms: max_word,
                silence_threshold: threshold,
                noise_margin_db: margin,
                vad_hangover_ms: hangover,
                beep: BeepConfig {
                    min_hz,
                    max_hz,
                    min_duration_ms: beep_ms,
                    min_purity: purity,
                },
                ..AmdConfig::default()
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn any_input_is_decided_once_by_the_analysis_time(
        config in config(),
        segments in proptest::collection::vec(segment(), 0..12),
    ) {
        let mut audio = Audio::new();
        for segment in segments {
            audio = match segment {
                Segment::Silence(ms) => audio.silence(ms),
                Segment::Noise(ms, peak) => audio.noise(ms, peak),
                Segment::Tone(ms, f, a) => audio.tone(ms, f, a),
                Segment::Constant(ms, v) => {
                    audio.samples.extend(std::iter::repeat_n(v, (ms * 8) as usize));
                    audio
                }
                Segment::Raw(samples) => {
                    audio.samples.extend(samples);
                    audio
                }
            };
        }
        // Pad with silence to the analysis time so a decision is due.
        let frames_due = config.total_analysis_time_ms.div_ceil(FRAME_MS).max(1) as usize;
        let need = frames_due * FRAME_SAMPLES;
        if audio.samples.len() < need {
            audio.samples.resize(need, 0);
        }
        let (decision, _) = run(&config, &audio);
        let decision = decision.expect("decided within the analysis time");
        prop_assert!(decision.at_ms <= frames_due as u32 * FRAME_MS, "{decision:?}");
        prop_assert_eq!(decision.at_ms % FRAME_MS, 0);
        if decision.verdict == AmdVerdict::NotSure {
            prop_assert_eq!(decision.cause, AmdCause::Timeout);
        }
        // A greeting ends on a frame boundary before the verdict; a person's pause is at
        // least the after-greeting silence long.
        if let Some(end) = decision.greeting_end_ms {
            prop_assert!(end > 0 && end <= decision.at_ms, "{decision:?}");
            prop_assert_eq!(end % FRAME_MS, 0);
        }
        if decision.cause == AmdCause::HumanPause {
            let since = decision.since_greeting_end_ms();
            prop_assert!(
                since.is_some_and(|ms| ms >= config.after_greeting_silence_ms),
                "{decision:?}"
            );
        }
    }
}
