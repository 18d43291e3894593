//! The SIP messages every parser bench uses.

/// A bench message.
pub const INVITE: &[u8] = b"INVITE sip:support@hotline.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport\r\n\
Max-Forwards: 70\r\n\
To: <sip:support@hotline.example.com>\r\n\
From: \"Alice\" <sip:+15551234567@carrier.example.net>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.carrier.example.net\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:+15551234567@192.0.2.10:5060>\r\n\
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE\r\n\
Supported: timer, replaces\r\n\
Session-Expires: 1800;refresher=uac\r\n\
User-Agent: carrier-sbc/1.0\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 222\r\n\
\r\n\
v=0\r\n\
o=- 2890844526 2890844526 IN IP4 192.0.2.10\r\n\
s=-\r\n\
c=IN IP4 192.0.2.10\r\n\
t=0 0\r\n\
m=audio 49170 RTP/AVP 0 8 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=ptime:20\r\n";

/// A bench message.
pub const OK: &[u8] = b"SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport=5060;received=192.0.2.10\r\n\
To: <sip:support@hotline.example.com>;tag=a6c85cf\r\n\
From: \"Alice\" <sip:+15551234567@carrier.example.net>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.carrier.example.net\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:support@198.51.100.5:5060>\r\n\
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE\r\n\
Supported: timer\r\n\
Session-Expires: 1800;refresher=uac\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 214\r\n\
\r\n\
v=0\r\n\
o=- 2890844527 2890844527 IN IP4 198.51.100.5\r\n\
s=-\r\n\
c=IN IP4 198.51.100.5\r\n\
t=0 0\r\n\
m=audio 20000 RTP/AVP 0 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n";

/// A bench message.
pub const REGISTER: &[u8] = b"REGISTER sip:hotline.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.20:5062;branch=z9hG4bKnashds7;rport\r\n\
Max-Forwards: 70\r\n\
To: \"Agent 1001\" <sip:1001@hotline.example.com>\r\n\
From: \"Agent 1001\" <sip:1001@hotline.example.com>;tag=456248\r\n\
Call-ID: 843817637684230@998sdasdh09\r\n\
CSeq: 1826 REGISTER\r\n\
Contact: <sip:1001@192.0.2.20:5062;transport=udp>;expires=3600\r\n\
Authorization: Digest username=\"1001\", realm=\"hotline\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"sip:hotline.example.com\", response=\"6629fae49393a05397450978507c4ef1\", algorithm=MD5\r\n\
User-Agent: softphone/2.1\r\n\
Content-Length: 0\r\n\
\r\n";
