package builder

import "context"

// MarkOffSite records in the manifest that the kit's repository is copied off-site
// (`travelkit remote add`) and rewrites the tools partition, so that the RESTORE pages say
// that a copy exists and how to restore it (never where it is, nor any secret). Files
// other than the pages are carried as they are. Nothing is done (nil result) when the
// manifest says so already.
func (s *Session) MarkOffSite(ctx context.Context) (*ChangeResult, error) {
	settled, err := s.settle(ctx)
	if err != nil {
		return nil, err
	}
	base := s.base()
	if base.Manifest.OffSite && len(settled) == 0 && s.pending == nil {
		return nil, nil
	}
	st, err := s.stage(base)
	if err != nil {
		return nil, err
	}
	defer st.remove()
	m := cloneManifest(base.Manifest)
	m.OffSite, m.ToolsWritten = true, s.Now
	res, err := s.rewrite(ctx, m, st.tools(), st.wraps)
	if err != nil {
		return nil, err
	}
	res.addNotes(settled)
	return res, nil
}
