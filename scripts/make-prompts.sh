#!/usr/bin/env bash
# Regenerates the bundled prompts (8 kHz, mono, 16-bit PCM WAV) with espeak-ng and sox:
# prompts/en (English) and prompts/zh-CN (Mandarin, espeak-ng's `cmn` voice), each with the
# service prompts, the words `say` builds numbers, durations and queue positions from, and the
# queue announcements. Usage: scripts/make-prompts.sh   (needs: apt-get install -y espeak-ng sox)
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

voice_en=en-us
voice_zh=cmn

# speak <folder> <voice> <name> <text>: a sentence, as spoken.
speak() {
  espeak-ng -v "$2" -s 150 -w "$tmp/raw.wav" "$4"
  sox -D "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "prompts/$1/$3.wav" norm -3
}

# word <folder> <voice> <name> <text>: a word `say` strings together, leading and trailing
# silence cut so numbers flow, with 60 ms of pause after it.
word() {
  espeak-ng -v "$2" -s 160 -w "$tmp/raw.wav" "$4"
  sox -D "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "prompts/$1/$3.wav" \
    silence 1 0.02 1% reverse silence 1 0.02 1% reverse norm -3 pad 0 0.06
}

mkdir -p prompts/en prompts/zh-CN

# English.
en() { speak en "$voice_en" "$@"; }
en greeting "Thank you for calling. For support, press 1. For billing, press 2."
en invalid "Sorry, that is not a valid choice."
en goodbye "Thank you for calling. Goodbye."
en please_hold "Please hold. Your call is important to us."
# Number 95500 of the bundled dialplan.
en services "Welcome to the service line. For customer service, press 1. For billing, press 2."
en closed "Our service hours are nine to six, Monday to Friday, and nine to noon on Saturday."
en holiday "Our service center is closed for the holiday. We will be back on the next working day."
en refused "We are unable to take your call."
# A message when 95500 is closed.
en message_offer "To leave a message and have us call you back, press 1."
en leave_message "Please leave your name, your phone number and a short message after the tone. Press the pound key when you have finished."
en message_saved "Thank you. Your message has been recorded, and we will call you back on the next working day. Goodbye."
# Queue announcements.
en estimated_wait "Your estimated wait is"
en queue_message "Thank you for waiting. An agent will be with you shortly."
# The post-call survey.
en survey_intro "Please stay on the line for a short survey about your call."
en survey_agent "How satisfied were you with our service? Press 1 for very dissatisfied, up to 5 for very satisfied."
en survey_resolved "How well was your question resolved? Press 1 for not at all, up to 5 for completely."
en survey_invalid "Sorry, please press a key from 1 to 5."
en survey_thanks "Thank you for your feedback. Goodbye."
# The callback offer while queued.
en callback_offer "To keep your place in the queue and be called back, press 1."
en callback_number "Please enter the number we should call, then press the hash key."
en callback_entered "You entered"
en callback_confirm "Press 1 to confirm, or 2 to enter it again."
en callback_accepted "Thank you. We will call you back in your turn. Goodbye."
# The recording notice of a `consent` node.
en recording_notice "This call may be recorded for quality. To opt out, press 9."

enw() { word en "$voice_en" "$@"; }
ones=(zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
  fifteen sixteen seventeen eighteen nineteen)
for n in "${!ones[@]}"; do enw "num_$n" "${ones[$n]}"; done
tens=([2]=twenty [3]=thirty [4]=forty [5]=fifty [6]=sixty [7]=seventy [8]=eighty [9]=ninety)
for n in "${!tens[@]}"; do enw "num_${n}0" "${tens[$n]}"; done
enw hundred "hundred"
enw thousand "thousand"
enw million "million"
enw about "about"
enw minute "minute"
enw minutes "minutes"
enw hour "hour"
enw hours "hours"
enw less_than_a_minute "less than a minute"
enw position_prefix "You are number"
enw position_suffix "in the queue"

# Mandarin.
zh() { speak zh-CN "$voice_zh" "$@"; }
zh greeting "感谢您的来电。技术支持请按1，账单查询请按2。"
zh invalid "对不起，您的选择无效。"
zh goodbye "感谢您的来电，再见。"
zh please_hold "请稍候，您的来电对我们很重要。"
zh services "欢迎致电服务热线。客户服务请按1，账单查询请按2。"
zh closed "我们的服务时间是周一至周五九点到十八点，周六九点到十二点。"
zh holiday "节假日期间服务中心暂停服务，我们将在下一个工作日恢复服务。"
zh refused "很抱歉，我们无法接听您的来电。"
zh message_offer "如需留言，并由我们给您回电，请按1。"
zh leave_message "请在提示音后留下您的姓名、电话号码和留言内容，录音完毕请按井号键。"
zh message_saved "谢谢，您的留言已录制，我们将在下一个工作日给您回电。再见。"
zh estimated_wait "您的预计等待时间为"
zh queue_message "感谢您的耐心等待，我们将尽快为您服务。"
zh survey_intro "请不要挂机，参加一个简短的服务满意度调查。"
zh survey_agent "您对本次服务满意吗？非常不满意请按1，非常满意请按5。"
zh survey_resolved "您的问题解决得如何？完全没有解决请按1，完全解决请按5。"
zh survey_invalid "对不起，请按1到5之间的数字。"
zh survey_thanks "感谢您的评价，再见。"
zh callback_offer "如需保留您的排队位置并由我们回电，请按1。"
zh callback_number "请输入我们回电的号码，并以井号键结束。"
zh callback_entered "您输入的号码是"
zh callback_confirm "确认请按1，重新输入请按2。"
zh callback_accepted "谢谢。轮到您时我们将给您回电。再见。"
zh recording_notice "本次通话可能会被录音以保证服务质量。如不同意录音，请按9。"

zhw() { word zh-CN "$voice_zh" "$@"; }
digits=(零 一 二 三 四 五 六 七 八 九 十)
for n in "${!digits[@]}"; do zhw "num_$n" "${digits[$n]}"; done
zhw liang "两"
zhw hundred "百"
zhw thousand "千"
zhw ten_thousand "万"
zhw about "大约"
zhw minute "分钟"
zhw minutes "分钟"
zhw hour "小时"
zhw hours "小时"
zhw less_than_a_minute "不到一分钟"
zhw position_prefix "您排在第"
zhw position_suffix "位"

# The language menu of 95500, the same in both folders: each choice in its own language.
espeak-ng -v "$voice_zh" -s 150 -w "$tmp/zh.wav" "中文服务请按1。"
espeak-ng -v "$voice_en" -s 150 -w "$tmp/en.wav" "For English, press 2."
sox -D "$tmp/zh.wav" "$tmp/en.wav" -r 8000 -c 1 -b 16 -e signed-integer prompts/en/language_menu.wav norm -3
cp prompts/en/language_menu.wav prompts/zh-CN/language_menu.wav

# Music on hold: a gentle two-chord loop, 8 seconds, seamless when repeated.
out=prompts/en
sox -n -r 8000 -c 1 -b 16 -e signed-integer "$out/moh.wav" \
  synth 2 sine 261.63 sine 329.63 sine 392.00 : synth 2 sine 220 sine 261.63 sine 329.63 \
  : synth 2 sine 174.61 sine 220 sine 261.63 : synth 2 sine 196 sine 246.94 sine 293.66 \
  remix - fade q 0.05 0 0.05 vol 0.25 2>/dev/null \
  || sox -n -r 8000 -c 1 -b 16 -e signed-integer "$out/moh.wav" synth 8 sine 330 vol 0.2
# The voicemail beep before recording: a 1 kHz tone of 250 ms, the same in every language.
for lang in en zh-CN; do
  sox -D -n -r 8000 -c 1 -b 16 -e signed-integer "prompts/$lang/beep.wav" synth 0.25 sine 1000 vol 0.5
done
du -sh prompts/en prompts/zh-CN
