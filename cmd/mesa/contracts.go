package main

import (
	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/jobs"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/mailout"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/sla"
	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/web"
	"github.com/mesadeservicios/mesa/web/health"
)

// The contracts between the packages, checked when mesa is compiled: every
// interface a package consumes, against what cmd/mesa wires into it. Here
// because only cmd/mesa imports both sides.
var (
	// desk's store, one small interface per use case and their union.
	_ desk.Store         = (*store.DB)(nil)
	_ desk.TxStore       = (*store.DB)(nil)
	_ desk.IntakeStore   = (*store.DB)(nil)
	_ desk.Directory     = (*store.DB)(nil)
	_ desk.MailCounter   = (*store.DB)(nil)
	_ desk.EventReader   = (*store.DB)(nil)
	_ desk.SLAStore      = (*store.DB)(nil)
	_ desk.SLARecipients = (*store.DB)(nil)
	_ desk.DigestStore   = (*store.DB)(nil)
	_ desk.MineStore     = (*store.DB)(nil)
	_ desk.SurveyStore   = (*store.DB)(nil)
	_ desk.FileStore     = (*store.DB)(nil)
	_ desk.QueueStore    = (*store.DB)(nil)
	_ desk.LinkStore     = (*store.DB)(nil)
	_ desk.OperatorStore = (*store.DB)(nil)
	_ desk.OutcomeStore  = (*store.DB)(nil)
	// desk's other collaborators.
	_ desk.MailRenderer      = (*mailout.Renderer)(nil)
	_ desk.Calendar          = (*sla.Calendar)(nil)
	_ desk.Classifier        = (*rules.Engine)(nil)
	_ desk.AttachmentDecoder = mailin.Decoder{}
	_ desk.MonthlyReporter   = monthlyReporter{} // package report over the store (monthly.go)
	// web's.
	_ web.Desk       = (*desk.Desk)(nil)
	_ web.StatusDesk = (*desk.Desk)(nil)
	_ web.SurveyDesk = (*desk.Desk)(nil)
	_ web.MineDesk   = (*desk.Desk)(nil)
	_ web.FileDesk   = (*desk.Desk)(nil)
	_ web.Pinger     = (*store.DB)(nil)
	_ web.Catalogue  = (*rules.Engine)(nil)
	// mailout's.
	_ mailout.Catalogue = (*rules.Engine)(nil)
	_ mailout.Recorder  = (*desk.Desk)(nil)
	_ mailout.Store     = (*store.DB)(nil)
	_ mailout.Sender    = (*mailout.SMTP)(nil)
	_ mailout.Sender    = (*mailout.GraphSender)(nil)
	// mailin's and the jobs'.
	_ mailin.State      = (*store.DB)(nil)
	_ mailin.GraphState = (*store.DB)(nil)
	_ mailin.DeltaStore = (*store.DB)(nil)
	_ mailin.TokenStore = (*store.DB)(nil)
	_ mailin.Leases     = leases{}
	_ mailin.Reader     = (*mailin.Poller)(nil)
	_ mailin.Reader     = (*mailin.Graph)(nil)
	_ jobs.Runs         = (*store.DB)(nil)
	// web/health's.
	_ health.Outbox = (*store.DB)(nil)
)
